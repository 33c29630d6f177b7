// Message body encodings: envelope text compressed (brotli, gzip or zstd) into bytes or base64,
// and back.
import { promisify } from "node:util";
import {
  brotliCompress,
  brotliDecompress,
  constants,
  gunzip,
  gzip,
  zstdCompress,
  zstdDecompress,
} from "node:zlib";
import { DecodeError } from "../util/errors.js";
import type { BodyEncoding } from "./envelope.js";

const brotliCompressAsync = promisify(brotliCompress);
const brotliDecompressAsync = promisify(brotliDecompress);
const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);
const zstdCompressAsync = promisify(zstdCompress);
const zstdDecompressAsync = promisify(zstdDecompress);

/** The compressions a body (or a payload attribute) may carry: every encoding but `identity`. */
export type Compression = Exclude<BodyEncoding, "identity">;

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

/**
 * zstd level used for bodies (`compression: "zstd"`). On realistic records packed as the batcher
 * packs them, level 1 took 0.10-0.15x brotli 5's CPU to compress and 0.38-0.69x to decompress,
 * for 5-11% more bytes; levels 2-5 cost more CPU to save at most 4% of bytes, and 6 matched
 * brotli's bytes at about brotli's CPU (see docs/benchmarks.md, "Codec"). No dictionary: Node reloads it on
 * every call, and Node before 22.19 ignores the option without a word.
 */
const ZSTD_LEVEL = 1;

/** Compresses envelope text (off the event loop) into the bytes of a body in `encoding`. */
export async function compressEnvelope(text: string, encoding: Compression): Promise<Buffer> {
  if (encoding === "gzip") return gzipAsync(text);
  const input = Buffer.from(text, "utf8");
  if (encoding === "zstd") {
    return zstdCompressAsync(input, {
      params: {
        [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL,
        // The frame names its size: the sidecar's decoder then sizes its output at once.
        [constants.ZSTD_c_contentSizeFlag]: 1,
      },
    });
  }
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
 * The envelope text of a body encoded with `encoding` (base64 of brotli, gzip or zstd), as UTF-8
 * bytes, refusing more than {@link MAX_DECODED_BODY_BYTES}. Off the event loop. Throws
 * DecodeError.
 */
export function decompressBody(body: string, encoding: Compression): Promise<Buffer> {
  return decompressEnvelope(Buffer.from(body, "base64"), encoding, "message body");
}

/**
 * The envelope text of `compressed` (brotli, gzip or zstd bytes, from a base64 body or a binary
 * payload attribute), as UTF-8 bytes, refusing more than {@link MAX_DECODED_BODY_BYTES}. Off the
 * event loop. Throws DecodeError naming `what`.
 */
export async function decompressEnvelope(
  compressed: Buffer,
  encoding: Compression,
  what = "message payload",
): Promise<Buffer> {
  try {
    const options = {
      maxOutputLength: MAX_DECODED_BODY_BYTES,
      chunkSize: decompressChunkBytes(compressed.length),
    };
    if (encoding === "br") return await brotliDecompressAsync(compressed, options);
    if (encoding === "zstd") return await zstdDecompressAsync(compressed, options);
    return await gunzipAsync(compressed, options);
  } catch (cause) {
    if ((cause as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new DecodeError(`${what} decompresses to more than ${MAX_DECODED_BODY_BYTES} bytes`, {
        cause,
      });
    }
    throw new DecodeError(`${what} does not decompress as ${encoding}`, { cause });
  }
}
