// Message body encodings: envelope text compressed (brotli or gzip) into bytes or base64, and back.
import { promisify } from "node:util";
import { brotliCompress, brotliDecompress, constants, gunzip, gzip } from "node:zlib";
import { DecodeError } from "../util/errors.js";
import type { BodyEncoding } from "./envelope.js";

const brotliCompressAsync = promisify(brotliCompress);
const brotliDecompressAsync = promisify(brotliDecompress);
const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);

/**
 * Brotli quality used for bodies. Quality 5 gave 13% fewer bytes than gzip level 6 on
 * realistic records at about 1.3x its CPU time (see docs/benchmarks.md); 9+ costs 5x for 2% more.
 */
const BROTLI_QUALITY = 5;

/**
 * Decompressed size above which a body is refused, so a hostile message cannot exhaust memory.
 * The producer never writes more than 4 MiB of envelope text per message; 32 MiB leaves room
 * for other producers and for a record over MongoDB's 16 MiB limit to reach the quarantine.
 */
export const MAX_DECODED_BODY_BYTES = 32 * 1024 * 1024;

/** Compresses envelope text (off the event loop) into the bytes of a `br` or `gzip` body. */
export async function compressEnvelope(text: string, encoding: "br" | "gzip"): Promise<Buffer> {
  if (encoding === "gzip") return gzipAsync(text);
  const input = Buffer.from(text, "utf8");
  return brotliCompressAsync(input, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: input.length,
    },
  });
}

/** Compresses envelope text (off the event loop) into a base64 body for `encoding`. */
export async function encodeBody(text: string, encoding: BodyEncoding): Promise<string> {
  if (encoding === "identity") return text;
  return (await compressEnvelope(text, encoding)).toString("base64");
}

/** Largest output chunk of a decompression: what one call may reserve ahead of its output. */
const MAX_DECOMPRESS_CHUNK_BYTES = 1024 * 1024;

/**
 * Output chunk of the decompression of `compressedBytes`. With zlib's default of 16 KiB, a
 * 330 KiB envelope took 21 round trips between the threadpool and the main thread, a buffer
 * each, then a copy of them all: decompression and bound scan cost 3.2-3.7 µs of CPU per record
 * instead of 2.1-2.3 (see docs/benchmarks.md). Eight times the compressed size (JSON records compress
 * about that much) makes it one or two; bounded so that no message reserves more than 1 MiB.
 */
function decompressChunkBytes(compressedBytes: number): number {
  return Math.min(MAX_DECOMPRESS_CHUNK_BYTES, Math.max(16 * 1024, compressedBytes * 8));
}

/**
 * The envelope text of a body encoded with `encoding` (base64 of brotli or gzip), as UTF-8
 * bytes, refusing more than {@link MAX_DECODED_BODY_BYTES}. Off the event loop. Throws
 * DecodeError.
 */
export function decompressBody(body: string, encoding: "br" | "gzip"): Promise<Buffer> {
  return decompressEnvelope(Buffer.from(body, "base64"), encoding, "message body");
}

/**
 * The envelope text of `compressed` (brotli or gzip bytes, from a base64 body or a binary
 * payload attribute), as UTF-8 bytes, refusing more than {@link MAX_DECODED_BODY_BYTES}. Off the
 * event loop. Throws DecodeError naming `what`.
 */
export async function decompressEnvelope(
  compressed: Buffer,
  encoding: "br" | "gzip",
  what = "message payload",
): Promise<Buffer> {
  try {
    const options = {
      maxOutputLength: MAX_DECODED_BODY_BYTES,
      chunkSize: decompressChunkBytes(compressed.length),
    };
    return encoding === "br"
      ? await brotliDecompressAsync(compressed, options)
      : await gunzipAsync(compressed, options);
  } catch (cause) {
    if ((cause as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new DecodeError(`${what} decompresses to more than ${MAX_DECODED_BODY_BYTES} bytes`, {
        cause,
      });
    }
    throw new DecodeError(`${what} does not decompress as ${encoding}`, { cause });
  }
}
