"""A ``.tflite`` as C source, the way TFLite Micro's examples embed a model.

``model_data.h`` declares the array, its length and the arena the model needs;
``model_data.c`` defines the bytes, 16-byte aligned (TFLite Micro reads the flatbuffer in
place, and its tensors' buffers must be aligned).
"""

from __future__ import annotations

from pathlib import Path

HEADER = "model_data.h"
SOURCE = "model_data.c"


def write_c_array(model: bytes, arena_bytes: int, folder: Path, name: str = "g_model") -> tuple[Path, Path]:
    """Write ``model_data.h`` / ``model_data.c`` into ``folder``; the arena size is a constant."""
    guard = "MUNAS_MODEL_DATA_H_"
    header = (f"#ifndef {guard}\n#define {guard}\n\n"
              f"/* int8 TFLite model exported by munas; run it with a TFLite Micro interpreter */\n"
              f"#define {name.upper()}_ARENA_SIZE {arena_bytes}\n\n"
              f"extern const unsigned char {name}[];\nextern const unsigned int {name}_len;\n\n#endif\n")
    rows = [", ".join(f"0x{b:02x}" for b in model[i:i + 12]) for i in range(0, len(model), 12)]
    source = (f'#include "{HEADER}"\n\n'
              f"__attribute__((aligned(16))) const unsigned char {name}[] = {{\n  "
              + ",\n  ".join(rows) + f"\n}};\nconst unsigned int {name}_len = {len(model)};\n")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / HEADER).write_text(header, encoding="ascii")
    (folder / SOURCE).write_text(source, encoding="ascii")
    return folder / HEADER, folder / SOURCE
