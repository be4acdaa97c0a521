#pragma once
// Front header of the secrets module: per-environment encrypted secret files (secret_store.h), their
// keys (key.h), dotenv import (dotenv.h), resolution for injection and rollback (resolve.h) and leak
// scanning for the plaintext check (scan.h).
// docs/secrets.md describes the format, keys, rotation, the rollback rule and redaction.

#include "secrets/dotenv.h"
#include "secrets/key.h"
#include "secrets/resolve.h"
#include "secrets/scan.h"
#include "secrets/secret_file.h"
#include "secrets/secret_store.h"
