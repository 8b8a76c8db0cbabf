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

int ligo_kernels_version(void) { return 1; }

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
