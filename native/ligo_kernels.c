/*
 * The blas backend's own kernels in C, on every core (OpenMP where the compiler has it): the ones
 * a learning step spends its non-matrix time in (GELU, attention's masked softmax, LayerNorm, each
 * way). Loaded through koffi by src/backend/native_kernels.ts; each function computes what its
 * JavaScript twin in src/backend/js_kernels/ computes (the parity tests hold them together), on
 * contiguous row-major float32 arrays the caller owns. Built by scripts/build-native.mjs.
 *
 * Build with -ffp-contract=off: a fused multiply-add would round scale * x + mask once where the
 * composed tfjs ops round twice.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Below this many elements one thread is faster: waking the others costs more than the work. */
#define PARALLEL_MIN_ELEMENTS 65536

/* Rows per parallel chunk: enough work per chunk that scheduling stays negligible. */
#define ROW_CHUNK 16

int ligo_kernels_version(void) { return 2; }

int ligo_openmp(void) {
#ifdef _OPENMP
  return 1;
#else
  return 0;
#endif
}

void ligo_set_threads(int threads) {
#ifdef _OPENMP
  if (threads > 0) omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}

int ligo_threads(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

/*
 * exp in float32, written so the loops that call it vectorize (libm's expf is a call per element):
 * Cephes' expf, x = n ln2 + r with |r| <= ln2 / 2 and a degree-6 polynomial for e^r, then 2^n put
 * into the exponent bits; within 2 ulp of expf over its range. The argument is clamped to
 * [-EXP_ARG_MAX, EXP_ARG_MAX], past which float32 would overflow or flush to zero anyway.
 */
#define EXP_ARG_MAX 87.0f
static inline float exp_f32(float x) {
  x = x > EXP_ARG_MAX ? EXP_ARG_MAX : x;
  x = x < -EXP_ARG_MAX ? -EXP_ARG_MAX : x;
  /* round to nearest by adding and removing 1.5 * 2^23 (floorf is a call on SSE2, and stops vectorizing) */
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  /* ln2 split in two so n * ln2 is subtracted without rounding error */
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  union { float f; int32_t i; } scale = { .i = ((int32_t)n + 127) << 23 };
  return p * scale.f;
}

static const float GELU_K = 0.7978845608028654f; /* sqrt(2 / pi) */
static const float GELU_C = 0.044715f;

/*
 * gelu_new, y = 0.5 x (1 + tanh(u)), u = k (x + c x^3), written as y = x s with s = 1 / (1 + e),
 * e = exp(-2u): the same function (1 + tanh(u) = 2 / (1 + exp(-2u))) without the cancellation in
 * 1 + tanh(u) for negative u, and with no branch, so it vectorizes.
 */
void ligo_gelu_new(const float *x, float *out, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN_ELEMENTS)
  for (int64_t i = 0; i < n; i++) {
    const float a = x[i];
    const float u = GELU_K * (a + GELU_C * a * a * a);
    out[i] = a / (1.0f + exp_f32(-2.0f * u));
  }
}

/*
 * dL/dx = dy (s + 2 x s (1 - s) k (1 + 3 c x^2)), s = 1 / (1 + e), s (1 - s) = e / (1 + e)^2:
 * sech^2(u) / 4 without the cancellation of 1 - tanh^2 in the tails.
 */
void ligo_gelu_new_grad(const float *dy, const float *x, float *out, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN_ELEMENTS)
  for (int64_t i = 0; i < n; i++) {
    const float a = x[i];
    const float a2 = a * a;
    const float u = GELU_K * (a + GELU_C * a2 * a);
    const float e = exp_f32(-2.0f * u);
    const float s = 1.0f / (1.0f + e);
    const float ds = s * s * e; /* e / (1 + e)^2, overflow-free: (1 + e)^2 never formed */
    out[i] = dy[i] * (s + 2.0f * a * ds * GELU_K * (1.0f + 3.0f * GELU_C * a2));
  }
}

/*
 * softmax(scale * x + mask) over rows of s: x [rows, s] where row r uses mask row r % t (mask
 * [t, s]). Each scaled and masked score is rounded to float32, as the composed ops store it; the
 * exponentials are float32, their sum double, as masked_softmax.ts.
 */
void ligo_masked_softmax(const float *x, const float *mask, float *out, int64_t rows, int64_t t, int64_t s, float scale) {
#pragma omp parallel for schedule(static, ROW_CHUNK) if (rows * s >= PARALLEL_MIN_ELEMENTS)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * s;
    const float *m = mask + (r % t) * s;
    float *o = out + r * s;
    float max = -INFINITY;
    int nan = 0;
    for (int64_t j = 0; j < s; j++) {
      const float v = (float)(xr[j] * scale) + m[j];
      o[j] = v;
      if (v > max) max = v;
      if (v != v) nan = 1;
    }
    if (nan) max = NAN;
    double sum = 0;
    for (int64_t j = 0; j < s; j++) {
      const float e = exp_f32(o[j] - max);
      o[j] = e;
      sum += e;
    }
    const float total = (float)sum;
    for (int64_t j = 0; j < s; j++) o[j] /= total;
  }
}

/* dx = scale * y * (dy - sum(dy * y)) per row of s. */
void ligo_masked_softmax_grad(const float *dy, const float *y, float *dx, int64_t rows, int64_t s, float scale) {
#pragma omp parallel for schedule(static, ROW_CHUNK) if (rows * s >= PARALLEL_MIN_ELEMENTS)
  for (int64_t r = 0; r < rows; r++) {
    const float *g = dy + r * s;
    const float *p = y + r * s;
    float *o = dx + r * s;
    double dot = 0;
    for (int64_t j = 0; j < s; j++) dot += (double)g[j] * p[j];
    for (int64_t j = 0; j < s; j++) o[j] = (float)(scale * p[j] * (g[j] - dot));
  }
}

/* One row's mean and 1 / sqrt(var + eps), biased variance, in double. */
static inline void row_stats(const float *x, int64_t c, double eps, double *mean, double *rstd) {
  double sum = 0;
  for (int64_t j = 0; j < c; j++) sum += x[j];
  const double mu = sum / c;
  double sq = 0;
  for (int64_t j = 0; j < c; j++) {
    const double d = x[j] - mu;
    sq += d * d;
  }
  *mean = mu;
  *rstd = 1 / sqrt(sq / c + eps);
}

/* LayerNorm over rows of c: y = (x - mean) rstd w + b. */
void ligo_layer_norm(const float *x, const float *w, const float *b, float *out, int64_t rows, int64_t c, double eps) {
#pragma omp parallel for schedule(static, ROW_CHUNK) if (rows * c >= PARALLEL_MIN_ELEMENTS)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * c;
    float *o = out + r * c;
    double mean, rstd;
    row_stats(xr, c, eps, &mean, &rstd);
    for (int64_t j = 0; j < c; j++) o[j] = (float)((xr[j] - mean) * rstd * w[j] + b[j]);
  }
}

/*
 * LayerNorm's gradient: dx per row, and dw, db summed over rows. Each thread sums its rows into
 * its own double buffers, added together at the end, so the sums need no lock; returns -1 when
 * those buffers cannot be allocated (the caller then runs its JavaScript kernel), 0 on success.
 */
int ligo_layer_norm_grad(const float *dy, const float *x, const float *w, float *dx, float *dw, float *db, int64_t rows, int64_t c, double eps) {
  const int parallel = rows * c >= PARALLEL_MIN_ELEMENTS;
  const int threads = parallel ? ligo_threads() : 1;
  double *sums = calloc((size_t)threads * 2 * (size_t)c, sizeof(double));
  if (sums == NULL) return -1;
#pragma omp parallel num_threads(threads) if (parallel)
  {
#ifdef _OPENMP
    double *dwSum = sums + (size_t)omp_get_thread_num() * 2 * (size_t)c;
#else
    double *dwSum = sums;
#endif
    double *dbSum = dwSum + c;
#pragma omp for schedule(static, ROW_CHUNK)
    for (int64_t r = 0; r < rows; r++) {
      const float *xr = x + r * c;
      const float *g = dy + r * c;
      float *o = dx + r * c;
      double mean, rstd;
      row_stats(xr, c, eps, &mean, &rstd);
      double gMean = 0, gxMean = 0;
      for (int64_t j = 0; j < c; j++) {
        const double xhat = (xr[j] - mean) * rstd;
        const double d = g[j];
        const double gw = d * w[j];
        gMean += gw;
        gxMean += gw * xhat;
        dwSum[j] += d * xhat;
        dbSum[j] += d;
      }
      gMean /= c;
      gxMean /= c;
      for (int64_t j = 0; j < c; j++) {
        const double xhat = (xr[j] - mean) * rstd;
        o[j] = (float)(rstd * ((double)g[j] * w[j] - gMean - xhat * gxMean));
      }
    }
  }
  for (int64_t j = 0; j < c; j++) {
    double a = 0, bsum = 0;
    for (int k = 0; k < threads; k++) {
      a += sums[(size_t)k * 2 * c + j];
      bsum += sums[(size_t)k * 2 * c + c + j];
    }
    dw[j] = (float)a;
    db[j] = (float)bsum;
  }
  free(sums);
  return 0;
}

/*
 * Binary float32 ops over a 2-D strided walk, the shape every broadcast collapses to in
 * js_kernels/elementwise.ts: out[r n + j] = x[r xr + j xc] op y[r yr + j yc]. Float arithmetic
 * rounds each result once, as the JavaScript kernels' double arithmetic rounded on store does (for
 * +, -, * and / of two floats the two are equal). op: BINARY_ADD ... BINARY_DIV.
 */
enum { BINARY_ADD = 0, BINARY_SUB = 1, BINARY_MUL = 2, BINARY_DIV = 3 };

#define BINARY_LOOP(EXPR)                                                                    \
  _Pragma("omp parallel for schedule(static) if (rows * n >= PARALLEL_MIN_ELEMENTS && rows > 1)") \
  for (int64_t r = 0; r < rows; r++) {                                                       \
    const float *a = x + r * xr;                                                             \
    const float *b = y + r * yr;                                                             \
    float *o = out + r * n;                                                                  \
    if (xc == 1 && yc == 1) {                                                                \
      for (int64_t j = 0; j < n; j++) { const float p = a[j], q = b[j]; o[j] = EXPR; }       \
    } else if (yc == 0) {                                                                    \
      const float q = b[0];                                                                  \
      for (int64_t j = 0; j < n; j++) { const float p = a[j * xc]; o[j] = EXPR; }            \
    } else if (xc == 0) {                                                                    \
      const float p = a[0];                                                                  \
      for (int64_t j = 0; j < n; j++) { const float q = b[j * yc]; o[j] = EXPR; }            \
    } else {                                                                                 \
      for (int64_t j = 0; j < n; j++) { const float p = a[j * xc], q = b[j * yc]; o[j] = EXPR; } \
    }                                                                                        \
  }

static void binary_rows(int op, const float *x, int64_t xr, int64_t xc, const float *y, int64_t yr, int64_t yc, float *out, int64_t rows, int64_t n) {
  switch (op) {
    case BINARY_ADD: BINARY_LOOP(p + q) break;
    case BINARY_SUB: BINARY_LOOP(p - q) break;
    case BINARY_MUL: BINARY_LOOP(p * q) break;
    case BINARY_DIV: BINARY_LOOP(p / q) break;
  }
}

/* A single long row is split into row-sized pieces so that it, too, runs on every thread. */
#define ROW_PIECE 16384

int ligo_binary(int op, const float *x, int64_t xr, int64_t xc, const float *y, int64_t yr, int64_t yc, float *out, int64_t rows, int64_t n) {
  if (op < BINARY_ADD || op > BINARY_DIV) return -1;
  if (rows == 1 && n >= 2 * ROW_PIECE) {
    const int64_t pieces = (n + ROW_PIECE - 1) / ROW_PIECE;
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < pieces; k++) {
      const int64_t start = k * ROW_PIECE;
      const int64_t len = start + ROW_PIECE > n ? n - start : ROW_PIECE;
      binary_rows(op, x + start * xc, 0, xc, y + start * yc, 0, yc, out + start, 1, len);
    }
    return 0;
  }
  binary_rows(op, x, xr, xc, y, yr, yc, out, rows, n);
  return 0;
}

/*
 * Sum of x read as [outer, reduced, inner] over its middle axis, times scale, into out [outer,
 * inner], accumulated in double as js_kernels/reduce.ts does (a mean rounds the sum to float32
 * before scaling, as there). Runs over outer rows on every thread, or over blocks of inner columns
 * when there is one outer row (the bias gradients: [rows, C] summed over rows).
 */
#define COLUMN_BLOCK 256

static void sum_block(const float *x, int64_t reduced, int64_t inner, int64_t i0, int64_t i1, float *out, double scale) {
  double acc[COLUMN_BLOCK];
  for (int64_t i = i0; i < i1; i++) acc[i - i0] = 0;
  for (int64_t r = 0; r < reduced; r++) {
    const float *row = x + r * inner;
    for (int64_t i = i0; i < i1; i++) acc[i - i0] += row[i];
  }
  for (int64_t i = i0; i < i1; i++) out[i] = scale == 1 ? (float)acc[i - i0] : (float)((double)(float)acc[i - i0] * scale);
}

void ligo_sum(const float *x, int64_t outer, int64_t reduced, int64_t inner, float *out, double scale) {
  const int parallel = outer * reduced * inner >= PARALLEL_MIN_ELEMENTS;
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t o = 0; o < outer; o++) {
      double sum = 0;
      const float *row = x + o * reduced;
      for (int64_t r = 0; r < reduced; r++) sum += row[r];
      out[o] = scale == 1 ? (float)sum : (float)((double)(float)sum * scale);
    }
    return;
  }
  const int64_t blocks = (inner + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
#pragma omp parallel for collapse(2) schedule(static) if (parallel)
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t k = 0; k < blocks; k++) {
      const int64_t i0 = k * COLUMN_BLOCK;
      const int64_t i1 = i0 + COLUMN_BLOCK > inner ? inner : i0 + COLUMN_BLOCK;
      sum_block(x + o * reduced * inner, reduced, inner, i0, i1, out + o * inner, scale);
    }
  }
}

/*
 * Copies x, read at x_offset with x_strides over dims, to out at out_offset with out_strides:
 * transposes, slices and splits (out contiguous), concatenations and pads (out strided), as
 * js_kernels/strided.ts stridedCopy and copy.ts scatterRows. rank <= STRIDED_MAX_RANK; returns -1
 * past it (the caller copies in JavaScript). The last axis is the inner loop; the coordinates of
 * each row are recomputed from its index, so rows run on every thread.
 */
#define STRIDED_MAX_RANK 8

int ligo_strided_copy(const float *x, int64_t x_offset, const int32_t *x_strides, float *out, int64_t out_offset, const int32_t *out_strides, int rank, const int32_t *dims) {
  if (rank < 1 || rank > STRIDED_MAX_RANK) return -1;
  const int64_t n = dims[rank - 1];
  const int64_t xs = x_strides[rank - 1], os = out_strides[rank - 1];
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; d++) rows *= dims[d];
#pragma omp parallel for schedule(static) if (rows * n >= PARALLEL_MIN_ELEMENTS)
  for (int64_t r = 0; r < rows; r++) {
    int64_t rest = r, from = x_offset, to = out_offset;
    for (int d = rank - 2; d >= 0; d--) {
      const int64_t c = rest % dims[d];
      from += c * x_strides[d];
      to += c * out_strides[d];
      rest /= dims[d];
    }
    const float *src = x + from;
    float *dst = out + to;
    if (xs == 1 && os == 1) {
      for (int64_t j = 0; j < n; j++) dst[j] = src[j];
    } else {
      for (int64_t j = 0; j < n; j++) dst[j * os] = src[j * xs];
    }
  }
  return 0;
}
