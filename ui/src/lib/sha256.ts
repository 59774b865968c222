// Incremental SHA-256, for the digest of a GGUF before it is uploaded to
// /api/blobs/sha256:<hex>. Web Crypto would do it, but only in a secure
// context (not over plain HTTP from another machine on the LAN) and only
// on a whole buffer; this streams a file of any size in chunks.

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
])

export class Sha256 {
  private h = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ])
  private block = new Uint8Array(64)
  private used = 0
  private length = 0
  private w = new Uint32Array(64)

  update(data: Uint8Array): this {
    let i = 0
    this.length += data.length
    if (this.used > 0) {
      const take = Math.min(64 - this.used, data.length)
      this.block.set(data.subarray(0, take), this.used)
      this.used += take
      i = take
      if (this.used < 64) return this
      this.compress(this.block, 0)
      this.used = 0
    }
    for (; i + 64 <= data.length; i += 64) this.compress(data, i)
    if (i < data.length) {
      this.block.set(data.subarray(i), 0)
      this.used = data.length - i
    }
    return this
  }

  /** The digest as 64 lowercase hex digits. */
  hex(): string {
    const bits = this.length * 8
    const pad = new Uint8Array((this.used < 56 ? 56 : 120) - this.used + 8)
    pad[0] = 0x80
    const view = new DataView(pad.buffer)
    view.setUint32(pad.length - 8, Math.floor(bits / 2 ** 32))
    view.setUint32(pad.length - 4, bits >>> 0)
    this.length -= pad.length // update() adds it back
    this.update(pad)
    return Array.from(this.h, (x) => x.toString(16).padStart(8, '0')).join('')
  }

  private compress(d: Uint8Array, o: number) {
    const w = this.w
    for (let t = 0; t < 16; t++) w[t] = (d[o + 4 * t] << 24) | (d[o + 4 * t + 1] << 16) | (d[o + 4 * t + 2] << 8) | d[o + 4 * t + 3]
    for (let t = 16; t < 64; t++) {
      const a = w[t - 15]
      const b = w[t - 2]
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3)
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10)
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0
    }
    let [a, b, c, e0, e, f, g, h] = this.h
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
      const ch = (e & f) ^ (~e & g)
      const t1 = (h + S1 + ch + K[t] + w[t]) | 0
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
      const maj = (a & b) ^ (a & c) ^ (b & c)
      const t2 = (S0 + maj) | 0
      h = g
      g = f
      f = e
      e = (e0 + t1) | 0
      e0 = c
      c = b
      b = a
      a = (t1 + t2) | 0
    }
    const H = this.h
    H[0] += a
    H[1] += b
    H[2] += c
    H[3] += e0
    H[4] += e
    H[5] += f
    H[6] += g
    H[7] += h
  }
}

/** Hashes a File (or Blob) in 4 MiB slices, reporting bytes done. */
export async function hashBlob(blob: Blob, onProgress?: (done: number) => void): Promise<string> {
  const sha = new Sha256()
  const step = 4 << 20
  for (let off = 0; off < blob.size; off += step) {
    const buf = new Uint8Array(await blob.slice(off, off + step).arrayBuffer())
    sha.update(buf)
    onProgress?.(Math.min(blob.size, off + step))
  }
  return sha.hex()
}
