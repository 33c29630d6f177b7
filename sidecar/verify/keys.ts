// Ed25519 keys of the digest signatures: the sidecar's private key (`digestSigningKey`) and the
// verifier's public key (`auditq verify --public-key`), each as PEM text or a PEM file's path.
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError } from "../../shared/util/errors.js";

/** PEM text as given, or the contents of the file it names. Never puts key material in errors. */
function pemText(value: string, what: string): string {
  if (value.includes("-----BEGIN")) return value;
  try {
    return readFileSync(value, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError(`${what}: cannot read the key file (${code})`);
  }
}

function ed25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== "ed25519") {
    throw new ConfigError(
      `${what}: expected an Ed25519 key, got ${key.asymmetricKeyType ?? "a secret key"}`,
    );
  }
  return key;
}

/** The Ed25519 private key of `value` (PEM text or a file path). Throws ConfigError. */
export function loadPrivateKey(value: string, what: string): KeyObject {
  const pem = pemText(value, what);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    // The parser's message says what is wrong with the format; it never quotes the key.
    throw new ConfigError(`${what}: not a PEM private key (${(err as Error).message})`);
  }
  return ed25519(key, what);
}

/** The Ed25519 public key of `value` (PEM text or a file path; a private key gives its public key). */
export function loadPublicKey(value: string, what: string): KeyObject {
  const pem = pemText(value, what);
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    // As above: the parser's message names the format problem, not the key.
    throw new ConfigError(`${what}: not a PEM public key (${(err as Error).message})`);
  }
  return ed25519(key, what);
}
