"""Where the project's data and the shared SAMHSA files live."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SHARED_SAMHSA = Path(os.environ.get("SHARED_SAMHSA_DIR", ROOT.parent / "shared" / "data" / "samhsa"))
CODE_REFERENCE = Path(
    os.environ.get("CODE_REFERENCE", SHARED_SAMHSA / "findtreatment_service_code_reference_2023.csv")
)
