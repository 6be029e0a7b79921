import numpy as np
import torch
from torch_geometric.data import Batch

from munas.space.sampling import random_architecture
from munas.surrogate.encoding import encode
from munas.surrogate.model import FeatureScaler, ModelConfig, SurrogateGNN


def test_forward_gives_one_finite_value_per_graph():
    rng = np.random.default_rng(3)
    graphs = [encode(random_architecture((28, 28, 1), 10, rng), float(rng.uniform(0, 0.8))) for _ in range(9)]
    batch = Batch.from_data_list(graphs)
    torch.manual_seed(0)
    model = SurrogateGNN(ModelConfig(hidden=16, layers=2))
    model.fit_scalers(batch)
    model.eval()
    out = model(batch)
    assert out.shape == (9,)
    assert torch.isfinite(out).all()
    # Batching does not mix graphs: each graph alone gives the same value.
    alone = torch.stack([model(Batch.from_data_list([g])) for g in graphs]).squeeze(-1)
    torch.testing.assert_close(alone, out, rtol=1e-4, atol=1e-5)


def test_scaler_standardises_and_keeps_constant_features_finite():
    values = torch.tensor([[1.0, 5.0], [3.0, 5.0]])
    scaler = FeatureScaler(2)
    scaler.fit(values)
    torch.testing.assert_close(scaler(values), torch.tensor([[-1.0, 0.0], [1.0, 0.0]]))
    assert scaler(torch.tensor([[2.0, 9.0]]))[0, 1] == 4.0  # centred only, not divided by 0
