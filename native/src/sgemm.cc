// vae-workbench-sgemm: the system's sgemm for the tfjs wasm backend's BatchMatMul and
// _FusedMatMul kernels. It reads the operands from, and writes the result into, the wasm heap
// (an ArrayBuffer) in place: no copies in or out.
//
// gemm(heap, aOff, bOff, cOff, batch, batchA, batchB, M, N, K, transA, transB,
//      biasOff, biasSize, activation, alpha)
//   For bi in [0, batch): C[bi] = act(op(A[bi % batchA]) * op(B[bi % batchB]) + bias)
//   A is [batchA, M, K] (or [batchA, K, M] when transA), B is [batchB, K, N] (or [batchB, N, K]
//   when transB), C is [batch, M, N]; all row-major float32. Offsets are byte offsets into heap.
//   biasOff < 0: no bias; otherwise bias[j % biasSize] is added to column j.
//   activation: the wasm backend's FusableActivation codes 0 linear, 1 relu, 2 relu6,
//   4 leakyrelu (alpha), 5 sigmoid, 6 elu (3 prelu is not handled here).
#include <node_api.h>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <utility>
#include <atomic>
#include <chrono>
#include <thread>

#if defined(USE_ACCELERATE)
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

namespace {

// Process-wide BLAS thread budget. Every tfjs backend instance (one per worker thread) that uses
// the kernel acquires a share; before each product the BLAS thread count is set to
// max(1, cores / users) (or the caller's cap), so two runs on two cores do not oversubscribe.
std::atomic<int> g_users{0};
std::atomic<int> g_cap{0};
std::atomic<int> g_applied{0};

int Cores() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : (int)n;
}

int DesiredThreads() {
  int users = g_users.load();
  int cap = g_cap.load();
  int share = Cores() / (users < 1 ? 1 : users);
  if (share < 1) share = 1;
  if (cap > 0 && cap < share) share = cap;
  return share;
}

void ApplyThreads() {
#if defined(USE_OPENBLAS)
  int want = DesiredThreads();
  if (g_applied.exchange(want) != want) openblas_set_num_threads(want);
#endif
}

// Per-thread counters for the profiler (bench --profile): time and work inside the BLAS products
// and inside the element-wise kernels of this addon. Two clock reads per call (~50 ns).
struct Stats {
  double gemmNs = 0, gemmFlops = 0, gemmCalls = 0;
  double elementwiseNs = 0, elementwiseCalls = 0;
};
thread_local Stats t_stats;

inline double NowNs() {
  return (double)std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct ElementwiseTimer {
  double start = NowNs();
  ~ElementwiseTimer() {
    t_stats.elementwiseNs += NowNs() - start;
    t_stats.elementwiseCalls += 1;
  }
};


#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, nullptr, "vae-workbench-sgemm: " #call);  \
      return nullptr;                                                 \
    }                                                                 \
  } while (0)

napi_value Throw(napi_env env, const char* message) {
  napi_throw_error(env, nullptr, message);
  return nullptr;
}

void Activate(float* c, size_t n, int activation, float alpha) {
  switch (activation) {
    case 1:
      for (size_t i = 0; i < n; i++) c[i] = c[i] > 0.f ? c[i] : 0.f;
      break;
    case 2:
      for (size_t i = 0; i < n; i++) c[i] = c[i] < 0.f ? 0.f : (c[i] > 6.f ? 6.f : c[i]);
      break;
    case 4:
      for (size_t i = 0; i < n; i++) c[i] = c[i] < 0.f ? alpha * c[i] : c[i];
      break;
    case 5:
      for (size_t i = 0; i < n; i++) c[i] = 1.f / (1.f + std::exp(-c[i]));
      break;
    case 6:
      for (size_t i = 0; i < n; i++) c[i] = c[i] >= 0.f ? c[i] : std::expm1(c[i]);
      break;
    default:
      break;
  }
}

napi_value Gemm(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value argv[16];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 16) return Throw(env, "vae-workbench-sgemm: gemm expects 16 arguments");
  bool isBuffer = false;
  CHECK(napi_is_arraybuffer(env, argv[0], &isBuffer));
  if (!isBuffer) return Throw(env, "vae-workbench-sgemm: heap must be an ArrayBuffer");
  void* heapData = nullptr;
  size_t heapBytes = 0;
  CHECK(napi_get_arraybuffer_info(env, argv[0], &heapData, &heapBytes));
  double v[15];
  for (int i = 0; i < 15; i++) CHECK(napi_get_value_double(env, argv[i + 1], &v[i]));
  const int64_t aOff = (int64_t)v[0], bOff = (int64_t)v[1], cOff = (int64_t)v[2];
  const int64_t batch = (int64_t)v[3], batchA = (int64_t)v[4], batchB = (int64_t)v[5];
  const int64_t M = (int64_t)v[6], N = (int64_t)v[7], K = (int64_t)v[8];
  const bool transA = v[9] != 0, transB = v[10] != 0;
  const int64_t biasOff = (int64_t)v[11], biasSize = (int64_t)v[12];
  const int activation = (int)v[13];
  const float alpha = (float)v[14];

  if (batch < 0 || batchA < 1 || batchB < 1 || M < 0 || N < 0 || K < 0) return Throw(env, "vae-workbench-sgemm: bad dimensions");
  if ((batchA != 1 && batchA != batch) || (batchB != 1 && batchB != batch)) return Throw(env, "vae-workbench-sgemm: batch sizes must be 1 or the output's");
  if (activation == 3 || activation < 0 || activation > 6) return Throw(env, "vae-workbench-sgemm: unsupported activation");
  auto inside = [&](int64_t off, int64_t floats) {
    return off >= 0 && (off % 4) == 0 && floats >= 0 && (uint64_t)off + (uint64_t)floats * 4 <= heapBytes;
  };
  if (!inside(aOff, batchA * M * K) || !inside(bOff, batchB * K * N) || !inside(cOff, batch * M * N) ||
      (biasOff >= 0 && (biasSize < 1 || !inside(biasOff, biasSize)))) {
    return Throw(env, "vae-workbench-sgemm: operand outside the heap");
  }
  char* heap = static_cast<char*>(heapData);
  const float* a = reinterpret_cast<const float*>(heap + aOff);
  const float* b = reinterpret_cast<const float*>(heap + bOff);
  float* c = reinterpret_cast<float*>(heap + cOff);
  const float* bias = biasOff >= 0 ? reinterpret_cast<const float*>(heap + biasOff) : nullptr;
  const size_t mn = (size_t)M * (size_t)N;
  if (mn == 0) return nullptr;
  ApplyThreads();
  const double started = NowNs();

  for (int64_t bi = 0; bi < batch; bi++) {
    const float* ab = a + (batchA == 1 ? 0 : bi) * M * K;
    const float* bb = b + (batchB == 1 ? 0 : bi) * K * N;
    float* cb = c + bi * (int64_t)mn;
    float beta = 0.f;
    if (bias) {
      for (int64_t i = 0; i < M; i++) {
        float* row = cb + i * N;
        if (biasSize == N) {
          std::memcpy(row, bias, sizeof(float) * N);
        } else {
          for (int64_t j = 0; j < N; j++) row[j] = bias[j % biasSize];
        }
      }
      beta = 1.f;
    }
    if (K == 0) {
      if (!bias) std::memset(cb, 0, sizeof(float) * mn);
    } else {
      cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                  (int)M, (int)N, (int)K, 1.f, ab, transA ? (int)M : (int)K, bb, transB ? (int)K : (int)N, beta,
                  cb, (int)N);
    }
    if (activation != 0) Activate(cb, mn, activation, alpha);
  }
  t_stats.gemmNs += NowNs() - started;
  t_stats.gemmFlops += 2.0 * (double)batch * (double)M * (double)N * (double)K;
  t_stats.gemmCalls += 1;
  return nullptr;
}

// Element-wise kernels on the heap (the wasm backend's Add/Sub/Multiply/RealDiv, Sqrt/Square/
// Softplus, and Sum over leading or trailing axes), for large float32 tensors. All take byte
// offsets into the heap and float counts.
bool GetHeap(napi_env env, napi_value value, char** heap, size_t* bytes) {
  bool isBuffer = false;
  if (napi_is_arraybuffer(env, value, &isBuffer) != napi_ok || !isBuffer) return false;
  void* data = nullptr;
  if (napi_get_arraybuffer_info(env, value, &data, bytes) != napi_ok) return false;
  *heap = static_cast<char*>(data);
  return true;
}

bool Inside(size_t heapBytes, int64_t off, int64_t floats) {
  return off >= 0 && (off % 4) == 0 && floats >= 0 && (uint64_t)off + (uint64_t)floats * 4 <= heapBytes;
}

// Hot loops are compiled for AVX-512, AVX2 and the baseline, picked at load (ifunc); the file is
// built with -ffp-contract=off, so every clone gives the same bits (no FMA, IEEE operations only).
#if defined(__x86_64__) && defined(__linux__)
#define HOT_LOOP __attribute__((noinline, target_clones("avx512f", "avx2", "default")))
#else
#define HOT_LOOP __attribute__((noinline))
#endif
#define INLINE inline __attribute__((always_inline))

// exp(x) for the softplus and sigmoid loops, branch-free so it vectorizes (libm's expf does not;
// nor do std::fmin/fmax, hence the comparisons):
// Cephes' expf (range reduction by ln 2 in two parts, degree-6 polynomial), relative error below
// 2e-7; x is clamped to [-87.3, 88.3], so exp(-large) is ~1e-38 rather than 0 and exp(large) is
// 2e38 rather than inf, which neither softplus nor sigmoid can tell from the exact values.
INLINE float ExpFast(float x) {
  x = x < -87.3f ? -87.3f : x;
  x = x > 88.3f ? 88.3f : x;
  const float fn = std::nearbyint(x * 1.44269504088896341f);
  const int n = (int)fn;
  float r = x - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.f;
  return p * __builtin_bit_cast(float, (n + 127) << 23);
}

// log(1 + y) for y in [0, 1]: 2 atanh(s) with s = y / (2 + y) in [0, 1/3], series to s^13
// (truncation below 1e-8 relative; no cancellation for small y).
INLINE float Log1pUnit(float y) {
  const float s = y / (2.f + y);
  const float s2 = s * s;
  float p = 1.f / 13.f;
  p = p * s2 + 1.f / 11.f;
  p = p * s2 + 1.f / 9.f;
  p = p * s2 + 1.f / 7.f;
  p = p * s2 + 1.f / 5.f;
  p = p * s2 + 1.f / 3.f;
  return 2.f * s * (1.f + s2 * p);
}

// softplus(t) = max(t, 0) + log1p(exp(-|t|)); sigmoid(t) = 1 / (1 + exp(-t)).
INLINE float SoftplusFast(float t) { return (t > 0.f ? t : 0.f) + Log1pUnit(ExpFast(-std::fabs(t))); }
INLINE float SigmoidFast(float t) { return 1.f / (1.f + ExpFast(-t)); }

HOT_LOOP void SoftplusLoop(const float* __restrict x, float* __restrict o, int64_t n) {
  for (int64_t i = 0; i < n; i++) o[i] = SoftplusFast(x[i]);
}
HOT_LOOP void SigmoidLoop(const float* __restrict x, float* __restrict o, int64_t n) {
  for (int64_t i = 0; i < n; i++) o[i] = SigmoidFast(x[i]);
}

// The operands never overlap the output in the wasm backend (fresh output buffer), so __restrict
// holds and the loops vectorize.
template <typename F>
__attribute__((noinline)) void BinaryLoop(const float* __restrict a, int64_t aSize, const float* __restrict b, int64_t bSize, float* __restrict o, int64_t n, F f) {
  if (aSize == n && bSize == n) {
    for (int64_t i = 0; i < n; i++) o[i] = f(a[i], b[i]);
  } else if (bSize == 1) {
    const float y = b[0];
    for (int64_t i = 0; i < n; i++) o[i] = f(a[i], y);
  } else {
    const float x = a[0];
    for (int64_t i = 0; i < n; i++) o[i] = f(x, b[i]);
  }
}

template <typename F>
__attribute__((noinline)) void UnaryLoop(const float* __restrict x, float* __restrict o, int64_t n, F f) {
  for (int64_t i = 0; i < n; i++) o[i] = f(x[i]);
}

// binary(heap, op, aOff, aSize, bOff, bSize, outOff, n): op 0 add, 1 sub, 2 mul, 3 div;
// aSize/bSize are n or 1 (broadcast scalar).
napi_value Binary(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char* heap;
  size_t heapBytes;
  if (argc != 8 || !GetHeap(env, argv[0], &heap, &heapBytes)) return Throw(env, "vae-workbench-sgemm: binary(heap, op, a, aSize, b, bSize, out, n)");
  double v[7];
  for (int i = 0; i < 7; i++) CHECK(napi_get_value_double(env, argv[i + 1], &v[i]));
  const int op = (int)v[0];
  const int64_t aOff = (int64_t)v[1], aSize = (int64_t)v[2], bOff = (int64_t)v[3], bSize = (int64_t)v[4], oOff = (int64_t)v[5], n = (int64_t)v[6];
  if ((aSize != n && aSize != 1) || (bSize != n && bSize != 1) || !Inside(heapBytes, aOff, aSize) || !Inside(heapBytes, bOff, bSize) || !Inside(heapBytes, oOff, n) || op < 0 || op > 3) {
    return Throw(env, "vae-workbench-sgemm: bad binary operands");
  }
  ElementwiseTimer timer;
  const float* a = reinterpret_cast<const float*>(heap + aOff);
  const float* b = reinterpret_cast<const float*>(heap + bOff);
  float* o = reinterpret_cast<float*>(heap + oOff);
  switch (op) {
    case 0: BinaryLoop(a, aSize, b, bSize, o, n, [](float x, float y) { return x + y; }); break;
    case 1: BinaryLoop(a, aSize, b, bSize, o, n, [](float x, float y) { return x - y; }); break;
    case 2: BinaryLoop(a, aSize, b, bSize, o, n, [](float x, float y) { return x * y; }); break;
    default: BinaryLoop(a, aSize, b, bSize, o, n, [](float x, float y) { return x / y; }); break;
  }
  return nullptr;
}

// unary(heap, op, xOff, outOff, n): op 0 sqrt, 1 square, 2 softplus, 3 exp, 4 sigmoid.
napi_value Unary(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char* heap;
  size_t heapBytes;
  if (argc != 5 || !GetHeap(env, argv[0], &heap, &heapBytes)) return Throw(env, "vae-workbench-sgemm: unary(heap, op, x, out, n)");
  double v[4];
  for (int i = 0; i < 4; i++) CHECK(napi_get_value_double(env, argv[i + 1], &v[i]));
  const int op = (int)v[0];
  const int64_t xOff = (int64_t)v[1], oOff = (int64_t)v[2], n = (int64_t)v[3];
  if (!Inside(heapBytes, xOff, n) || !Inside(heapBytes, oOff, n) || op < 0 || op > 4) return Throw(env, "vae-workbench-sgemm: bad unary operands");
  ElementwiseTimer timer;
  const float* x = reinterpret_cast<const float*>(heap + xOff);
  float* o = reinterpret_cast<float*>(heap + oOff);
  switch (op) {
    case 0: UnaryLoop(x, o, n, [](float t) { return std::sqrt(t); }); break;
    case 1: UnaryLoop(x, o, n, [](float t) { return t * t; }); break;
    case 2: SoftplusLoop(x, o, n); break;
    case 3: UnaryLoop(x, o, n, [](float t) { return std::exp(t); }); break;
    default: SigmoidLoop(x, o, n); break;
  }
  return nullptr;
}

// The sum of one row: eight partial sums in double (vectorizable, and more accurate than one float
// accumulator), in a fixed order. The fused kernels below sum with this too, so they give the
// same bits as the element-wise kernels followed by Sum.
const float kLog2Pi = 1.8378770664093453f;  // log(2 pi) as float32, as tfjs's scalar

inline float RowSum(const float* row, int64_t inner) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= inner; j += 8)
    for (int k = 0; k < 8; k++) acc[k] += row[j + k];
  double total = 0;
  for (; j < inner; j++) total += row[j];
  for (int k = 0; k < 8; k++) total += acc[k];
  return (float)total;
}

// sum(heap, xOff, outer, inner, outOff, inner_axis): x is [outer, inner]; inner_axis 1 sums each
// row (out has `outer` values), 0 sums each column (out has `inner` values).
napi_value Sum(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char* heap;
  size_t heapBytes;
  if (argc != 6 || !GetHeap(env, argv[0], &heap, &heapBytes)) return Throw(env, "vae-workbench-sgemm: sum(heap, x, outer, inner, out, innerAxis)");
  double v[5];
  for (int i = 0; i < 5; i++) CHECK(napi_get_value_double(env, argv[i + 1], &v[i]));
  const int64_t xOff = (int64_t)v[0], outer = (int64_t)v[1], inner = (int64_t)v[2], oOff = (int64_t)v[3];
  const bool rows = v[4] != 0;
  if (outer < 0 || inner < 0 || !Inside(heapBytes, xOff, outer * inner) || !Inside(heapBytes, oOff, rows ? outer : inner)) return Throw(env, "vae-workbench-sgemm: bad sum operands");
  ElementwiseTimer timer;
  const float* x = reinterpret_cast<const float*>(heap + xOff);
  float* o = reinterpret_cast<float*>(heap + oOff);
  if (rows) {
    for (int64_t r = 0; r < outer; r++) o[r] = RowSum(x + r * inner, inner);
  } else {
    // Column sums: accumulate rows into a double buffer on the stack in chunks.
    const int64_t chunk = 1024;
    double acc[1024];
    for (int64_t c0 = 0; c0 < inner; c0 += chunk) {
      const int64_t w = inner - c0 < chunk ? inner - c0 : chunk;
      for (int64_t j = 0; j < w; j++) acc[j] = 0;
      for (int64_t r = 0; r < outer; r++) {
        const float* row = x + r * inner + c0;
        for (int64_t j = 0; j < w; j++) acc[j] += row[j];
      }
      for (int64_t j = 0; j < w; j++) o[c0 + j] = (float)acc[j];
    }
  }
  return nullptr;
}

// adam(heap, pOff, mOff, vOff, gOff, n, beta1, oneMinusBeta1, beta2, oneMinusBeta2,
//      oneMinusAccBeta1, oneMinusAccBeta2, epsilon, negLr)
//   One pass of tfjs's Adam update over one variable, in place on the heap, in float32 with the
//   same operations in the same order as tf.train.adam's applyGradients (each op rounded to
//   float32; the file is built with -ffp-contract=off so no product is fused into an FMA):
//     m = m*b1 + g*(1-b1);  v = v*b2 + (g*g)*(1-b2)
//     p = ((m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)) * (-lr) + p
//   The scalars arrive as doubles already rounded to float32 by the caller (Math.fround).
// Returns sum(g^2) (in double, in index order): the variable's part of the global gradient norm,
// read in the same pass.
HOT_LOOP double SquaresSum(const float* __restrict g, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) acc[k] += (double)g[i + k] * (double)g[i + k];
  double total = 0;
  for (; i < n; i++) total += (double)g[i] * (double)g[i];
  for (int k = 0; k < 8; k++) total += acc[k];
  return total;
}

HOT_LOOP void AdamUpdate(float* __restrict p, float* __restrict m, float* __restrict v, const float* __restrict g, int64_t n,
                         float b1, float omb1, float b2, float omb2, float omab1, float omab2, float eps, float nlr) {
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = m[i] * b1 + gi * omb1;
    const float vi = v[i] * b2 + (gi * gi) * omb2;
    m[i] = mi;
    v[i] = vi;
    const float mhat = mi / omab1;
    const float vhat = vi / omab2;
    p[i] = (mhat / (std::sqrt(vhat) + eps)) * nlr + p[i];
  }
}

double AdamLoop(float* __restrict p, float* __restrict m, float* __restrict v, const float* __restrict g, int64_t n, float b1,
                float omb1, float b2, float omb2, float omab1, float omab2, float eps, float nlr) {
  const double squares = SquaresSum(g, n);
  AdamUpdate(p, m, v, g, n, b1, omb1, b2, omb2, omab1, omab2, eps, nlr);
  return squares;
}

napi_value Adam(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char* heap;
  size_t heapBytes;
  if (argc != 14 || !GetHeap(env, argv[0], &heap, &heapBytes)) return Throw(env, "vae-workbench-sgemm: adam(heap, p, m, v, g, n, b1, 1-b1, b2, 1-b2, 1-b1^t, 1-b2^t, eps, -lr)");
  double a[13];
  for (int i = 0; i < 13; i++) CHECK(napi_get_value_double(env, argv[i + 1], &a[i]));
  const int64_t pOff = (int64_t)a[0], mOff = (int64_t)a[1], vOff = (int64_t)a[2], gOff = (int64_t)a[3], n = (int64_t)a[4];
  if (n < 0 || !Inside(heapBytes, pOff, n) || !Inside(heapBytes, mOff, n) || !Inside(heapBytes, vOff, n) || !Inside(heapBytes, gOff, n)) {
    return Throw(env, "vae-workbench-sgemm: bad adam operands");
  }
  // p, m and v are written: they must be distinct buffers (and distinct from g).
  const int64_t offs[4] = {pOff, mOff, vOff, gOff};
  for (int i = 0; i < 4; i++)
    for (int j = i + 1; j < 4; j++)
      if (n > 0 && offs[i] < offs[j] + n * 4 && offs[j] < offs[i] + n * 4) return Throw(env, "vae-workbench-sgemm: adam operands overlap");
  ElementwiseTimer timer;
  const double squares =
      AdamLoop(reinterpret_cast<float*>(heap + pOff), reinterpret_cast<float*>(heap + mOff), reinterpret_cast<float*>(heap + vOff),
               reinterpret_cast<const float*>(heap + gOff), n, (float)a[5], (float)a[6], (float)a[7], (float)a[8], (float)a[9], (float)a[10],
               (float)a[11], (float)a[12]);
  napi_value result;
  CHECK(napi_create_double(env, squares, &result));
  return result;
}


// ---- Fused element-wise chains of the VAE step (kernels.ts "fused" kernels) ----------------------
// Each computes, in one pass, what a chain of the element-wise kernels above computes, with the same
// float32 operations in the same order (so the same bits as those kernels); the gradients are the
// tfjs gradients of those chains (sigmoid with the same fast exp as the Sigmoid kernel). fused(heap, op, ...offsets and sizes): one entry point, op selects the chain:
//   0 bernoulli      (x, l, rows, cols, out)            out[r] = sum_j x*l - softplus(l)
//   1 bernoulliGrad  (dy, x, l, rows, cols, dx, dl)     dl = dy[r]*x + (-dy[r])*sigmoid(l); dx = dy[r]*l (dx < 0: skipped)
//   2 klStd          (mu, lv, n, out)                   0.5*((mu*mu + exp(lv)) - (lv + 1))
//   3 klStdGrad      (dy, mu, lv, n, dmu, dlv)          g = dy*0.5: dmu = g*(mu*2); dlv = g*exp(lv) + (-g)
//   4 reparam        (mu, lv, eps, n, z)                z = mu + exp(0.5*lv)*eps
//   5 reparamGrad    (dz, lv, eps, n, dlv, deps)        s = exp(0.5*lv): dlv = ((dz*eps)*s)*0.5; deps = dz*s (deps < 0: skipped)
//   6 reluGrad       (dy, x, n, dx)                     dx = dy * step(x) (NaN where x is NaN)
//   7 logStdNormal   (z, rows, cols, out)                -0.5 * sum_j (z^2 + log 2pi)
//   8 its gradient   (dy, z, rows, cols, dz)
//   9 logNormalDiag  (z, mu, lv, rows, cols, out)        -0.5 * sum_j ((lv + log 2pi) + (z - mu)^2 / e^lv)
//  10 its gradient   (dy, z, mu, lv, rows, cols, dz, dmu, dlv)
// (dmu of reparam is dz itself: no kernel.)
HOT_LOOP void BernoulliRows(const float* __restrict x, const float* __restrict l, int64_t rows, int64_t cols, float* __restrict out, float* __restrict scratch) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;
    const float* lr = l + r * cols;
    for (int64_t j = 0; j < cols; j++) scratch[j] = xr[j] * lr[j] - SoftplusFast(lr[j]);
    out[r] = RowSum(scratch, cols);
  }
}

HOT_LOOP void BernoulliGradRows(const float* __restrict dy, const float* __restrict x, const float* __restrict l, int64_t rows, int64_t cols,
                                float* __restrict dx, float* __restrict dl) {
  for (int64_t r = 0; r < rows; r++) {
    const float d = dy[r], nd = -d;
    const int64_t base = r * cols;
    for (int64_t j = 0; j < cols; j++) {
      const float fromMul = d * x[base + j];
      const float fromSoftplus = nd * SigmoidFast(l[base + j]);
      dl[base + j] = fromMul + fromSoftplus;
    }
    if (dx)
      for (int64_t j = 0; j < cols; j++) dx[base + j] = d * l[base + j];
  }
}

HOT_LOOP void ReluGradLoop(const float* __restrict dy, const float* __restrict x, int64_t n, float* __restrict dx) {
  for (int64_t i = 0; i < n; i++) {
    // step(x): 1 above 0, 0 at or below, NaN for NaN (x != x).
    const float stepped = x[i] != x[i] ? x[i] : (x[i] > 0.f ? 1.f : 0.f);
    dx[i] = dy[i] * stepped;
  }
}

napi_value Fused(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char* heap;
  size_t heapBytes;
  if (argc < 2 || argc > 11 || !GetHeap(env, argv[0], &heap, &heapBytes)) return Throw(env, "vae-workbench-sgemm: fused(heap, op, ...)");
  double v[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t i = 1; i < argc; i++) CHECK(napi_get_value_double(env, argv[i], &v[i - 1]));
  const int op = (int)v[0];
  static const size_t kArgs[11] = {6, 8, 5, 7, 6, 7, 5, 5, 6, 7, 10};
  if (op < 0 || op > 10 || argc != kArgs[op] + 1) return Throw(env, "vae-workbench-sgemm: fused: bad op or argument count");
  auto f = [&](int i) { return reinterpret_cast<float*>(heap + (int64_t)v[i]); };
  auto ok = [&](int i, int64_t floats, bool optional = false) {
    if (optional && v[i] < 0) return true;
    return Inside(heapBytes, (int64_t)v[i], floats);
  };
  ElementwiseTimer timer;
  switch (op) {
    case 0: {
      const int64_t rows = (int64_t)v[3], cols = (int64_t)v[4];
      if (rows < 0 || cols < 1 || cols > (1 << 24) || !ok(1, rows * cols) || !ok(2, rows * cols) || !ok(5, rows)) break;
      float* scratch = new float[cols];
      BernoulliRows(f(1), f(2), rows, cols, f(5), scratch);
      delete[] scratch;
      return nullptr;
    }
    case 1: {
      const int64_t rows = (int64_t)v[4], cols = (int64_t)v[5];
      if (rows < 0 || cols < 0 || !ok(1, rows) || !ok(2, rows * cols) || !ok(3, rows * cols) || !ok(6, rows * cols, true) || !ok(7, rows * cols)) break;
      BernoulliGradRows(f(1), f(2), f(3), rows, cols, v[6] < 0 ? nullptr : f(6), f(7));
      return nullptr;
    }
    case 2: {
      const int64_t n = (int64_t)v[3];
      if (!ok(1, n) || !ok(2, n) || !ok(4, n)) break;
      const float* mu = f(1);
      const float* lv = f(2);
      float* out = f(4);
      for (int64_t i = 0; i < n; i++) {
        const float sq = mu[i] * mu[i];
        const float e = std::exp(lv[i]);
        const float left = sq + e;
        const float right = lv[i] + 1.f;
        out[i] = 0.5f * (left - right);
      }
      return nullptr;
    }
    case 3: {
      const int64_t n = (int64_t)v[4];
      if (!ok(1, n) || !ok(2, n) || !ok(3, n) || !ok(5, n) || !ok(6, n)) break;
      const float* dy = f(1);
      const float* mu = f(2);
      const float* lv = f(3);
      float* dmu = f(5);
      float* dlv = f(6);
      for (int64_t i = 0; i < n; i++) {
        const float g = dy[i] * 0.5f;
        const float twice = mu[i] * 2.f;
        dmu[i] = g * twice;
        const float fromExp = g * std::exp(lv[i]);
        dlv[i] = fromExp + (-g);
      }
      return nullptr;
    }
    case 4: {
      const int64_t n = (int64_t)v[4];
      if (!ok(1, n) || !ok(2, n) || !ok(3, n) || !ok(5, n)) break;
      const float* mu = f(1);
      const float* lv = f(2);
      const float* eps = f(3);
      float* z = f(5);
      for (int64_t i = 0; i < n; i++) {
        const float half = 0.5f * lv[i];
        const float s = std::exp(half);
        const float noise = s * eps[i];
        z[i] = mu[i] + noise;
      }
      return nullptr;
    }
    case 5: {
      const int64_t n = (int64_t)v[4];
      if (!ok(1, n) || !ok(2, n) || !ok(3, n) || !ok(5, n) || !ok(6, n, true)) break;
      const float* dz = f(1);
      const float* lv = f(2);
      const float* eps = f(3);
      float* dlv = f(5);
      float* deps = v[6] < 0 ? nullptr : f(6);
      for (int64_t i = 0; i < n; i++) {
        const float half = 0.5f * lv[i];
        const float s = std::exp(half);
        const float ds = dz[i] * eps[i];
        const float dhalf = ds * s;
        dlv[i] = dhalf * 0.5f;
        if (deps) deps[i] = dz[i] * s;
      }
      return nullptr;
    }
    case 6: {
      const int64_t n = (int64_t)v[3];
      if (!ok(1, n) || !ok(2, n) || !ok(4, n)) break;
      ReluGradLoop(f(1), f(2), n, f(4));
      return nullptr;
    }
    case 7: {  // logStdNormal (z, rows, cols, out): out[r] = -0.5 * sum_j (z^2 + log 2pi)
      const int64_t rows = (int64_t)v[2], cols = (int64_t)v[3];
      if (rows < 0 || cols < 1 || cols > (1 << 24) || !ok(1, rows * cols) || !ok(4, rows)) break;
      const float* z = f(1);
      float* out = f(4);
      float* scratch = new float[cols];
      for (int64_t r = 0; r < rows; r++) {
        for (int64_t j = 0; j < cols; j++) scratch[j] = z[r * cols + j] * z[r * cols + j] + kLog2Pi;
        out[r] = -0.5f * RowSum(scratch, cols);
      }
      delete[] scratch;
      return nullptr;
    }
    case 8: {  // logStdNormalGrad (dy, z, rows, cols, dz): g = dy[r] * -0.5; dz = g * (z * 2)
      const int64_t rows = (int64_t)v[3], cols = (int64_t)v[4];
      if (rows < 0 || cols < 0 || !ok(1, rows) || !ok(2, rows * cols) || !ok(5, rows * cols)) break;
      const float* dy = f(1);
      const float* z = f(2);
      float* dz = f(5);
      for (int64_t r = 0; r < rows; r++) {
        const float g = dy[r] * -0.5f;
        for (int64_t j = 0; j < cols; j++) dz[r * cols + j] = g * (z[r * cols + j] * 2.f);
      }
      return nullptr;
    }
    case 9: {  // logNormalDiag (z, mu, lv, rows, cols, out): -0.5 * sum_j ((lv + log 2pi) + (z - mu)^2 / exp(lv))
      const int64_t rows = (int64_t)v[4], cols = (int64_t)v[5];
      if (rows < 0 || cols < 1 || cols > (1 << 24) || !ok(1, rows * cols) || !ok(2, rows * cols) || !ok(3, rows * cols) || !ok(6, rows)) break;
      const float* z = f(1);
      const float* mu = f(2);
      const float* lv = f(3);
      float* out = f(6);
      float* scratch = new float[cols];
      for (int64_t r = 0; r < rows; r++) {
        for (int64_t j = 0; j < cols; j++) {
          const int64_t i = r * cols + j;
          const float d = z[i] - mu[i];
          scratch[j] = (lv[i] + kLog2Pi) + (d * d) / std::exp(lv[i]);
        }
        out[r] = -0.5f * RowSum(scratch, cols);
      }
      delete[] scratch;
      return nullptr;
    }
    default: {  // logNormalDiagGrad (dy, z, mu, lv, rows, cols, dz, dmu, dlv)
      // g = dy[r] * -0.5; q = (z - mu)^2 / e with e = exp(lv): dq/dz = 2 (z - mu) / e, dq/dlv = -q.
      const int64_t rows = (int64_t)v[5], cols = (int64_t)v[6];
      const int64_t n = rows * cols;
      if (rows < 0 || cols < 0 || !ok(1, rows) || !ok(2, n) || !ok(3, n) || !ok(4, n) || !ok(7, n) || !ok(8, n) || !ok(9, n)) break;
      const float* dy = f(1);
      const float* z = f(2);
      const float* mu = f(3);
      const float* lv = f(4);
      float* dz = f(7);
      float* dmu = f(8);
      float* dlv = f(9);
      for (int64_t r = 0; r < rows; r++) {
        const float g = dy[r] * -0.5f;
        for (int64_t j = 0; j < cols; j++) {
          const int64_t i = r * cols + j;
          const float d = z[i] - mu[i];
          const float e = std::exp(lv[i]);
          const float fromSquare = (g / e) * (d * 2.f);
          dz[i] = fromSquare;
          dmu[i] = -fromSquare;
          dlv[i] = g + (-(g * (d * d)) / e);
        }
      }
      return nullptr;
    }
  }
  return Throw(env, "vae-workbench-sgemm: fused: operand outside the heap");
}

// stats(): this thread's counters; resetStats() zeroes them.
napi_value GetStats(napi_env env, napi_callback_info) {
  napi_value result, value;
  CHECK(napi_create_object(env, &result));
  const std::pair<const char*, double> fields[] = {{"gemmNs", t_stats.gemmNs},
                                                   {"gemmFlops", t_stats.gemmFlops},
                                                   {"gemmCalls", t_stats.gemmCalls},
                                                   {"elementwiseNs", t_stats.elementwiseNs},
                                                   {"elementwiseCalls", t_stats.elementwiseCalls}};
  for (const auto& field : fields) {
    CHECK(napi_create_double(env, field.second, &value));
    CHECK(napi_set_named_property(env, result, field.first, value));
  }
  return result;
}

napi_value ResetStats(napi_env env, napi_callback_info) {
  t_stats = Stats();
  return nullptr;
}

// coreName(): the kernel family OpenBLAS chose at load (e.g. "SkylakeX", "Prescott"); "" elsewhere.
napi_value CoreName(napi_env env, napi_callback_info) {
  napi_value result;
#if defined(USE_OPENBLAS)
  CHECK(napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &result));
#else
  CHECK(napi_create_string_utf8(env, "", NAPI_AUTO_LENGTH, &result));
#endif
  return result;
}


// ---- im2col / col2im for the conv kernels (accelerate/conv.ts), NHWC, dilation 1 -------------------
// cols is [B*oH*oW, fH*fW*C] row-major: row (b, oy, ox), column (ky, kx, c): the input pixel under
// filter tap (ky, kx) of output (oy, ox), zero where the window hangs over the padding. With the
// filter [fH, fW, C, outC] seen as [fH*fW*C, outC], a convolution is cols x filter; the filter
// gradient is cols^T x dy; the input gradient is col2im(dy x filter^T), which adds each column
// back into the input pixel it came from (in a fixed order: same bits every time).
// conv(heap, op, xOff, B, H, W, C, fH, fW, sH, sW, top, left, oH, oW, colsOff): op 0 im2col (x -> cols),
// op 1 col2im (cols -> x, which is overwritten).
napi_value Conv(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value argv[16];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char* heap;
  size_t heapBytes;
  if (argc != 16 || !GetHeap(env, argv[0], &heap, &heapBytes)) return Throw(env, "vae-workbench-sgemm: conv(heap, op, x, B, H, W, C, fH, fW, sH, sW, top, left, oH, oW, cols)");
  double v[15];
  for (int i = 0; i < 15; i++) CHECK(napi_get_value_double(env, argv[i + 1], &v[i]));
  const int op = (int)v[0];
  const int64_t xOff = (int64_t)v[1], B = (int64_t)v[2], H = (int64_t)v[3], W = (int64_t)v[4], C = (int64_t)v[5];
  const int64_t fH = (int64_t)v[6], fW = (int64_t)v[7], sH = (int64_t)v[8], sW = (int64_t)v[9];
  const int64_t top = (int64_t)v[10], left = (int64_t)v[11], oH = (int64_t)v[12], oW = (int64_t)v[13], colsOff = (int64_t)v[14];
  if (op < 0 || op > 1 || B < 0 || H < 1 || W < 1 || C < 1 || fH < 1 || fW < 1 || sH < 1 || sW < 1 || oH < 0 || oW < 0 ||
      !Inside(heapBytes, xOff, B * H * W * C) || !Inside(heapBytes, colsOff, B * oH * oW * fH * fW * C)) {
    return Throw(env, "vae-workbench-sgemm: bad conv operands");
  }
  ElementwiseTimer timer;
  float* x = reinterpret_cast<float*>(heap + xOff);
  float* cols = reinterpret_cast<float*>(heap + colsOff);
  const int64_t K = fH * fW * C;
  if (op == 1) std::memset(x, 0, sizeof(float) * (size_t)(B * H * W * C));
  for (int64_t b = 0; b < B; b++)
    for (int64_t oy = 0; oy < oH; oy++)
      for (int64_t ox = 0; ox < oW; ox++) {
        float* row = cols + ((b * oH + oy) * oW + ox) * K;
        for (int64_t ky = 0; ky < fH; ky++) {
          const int64_t iy = oy * sH + ky - top;
          for (int64_t kx = 0; kx < fW; kx++) {
            const int64_t ix = ox * sW + kx - left;
            float* tap = row + (ky * fW + kx) * C;
            const bool inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
            if (op == 0) {
              if (inside) std::memcpy(tap, x + ((b * H + iy) * W + ix) * C, sizeof(float) * (size_t)C);
              else std::memset(tap, 0, sizeof(float) * (size_t)C);
            } else if (inside) {
              float* pixel = x + ((b * H + iy) * W + ix) * C;
              for (int64_t c = 0; c < C; c++) pixel[c] += tap[c];
            }
          }
        }
      }
  return nullptr;
}

struct UserShare {
  bool active = false;
};

void ReleaseShare(void* data) {
  auto* share = static_cast<UserShare*>(data);
  if (share->active) g_users.fetch_sub(1);
  delete share;
}

// acquire(): this thread's backend uses the kernel; released when the thread's env is torn down
// (worker exit) or by release().
napi_value Acquire(napi_env env, napi_callback_info) {
  UserShare* share = nullptr;
  if (napi_get_instance_data(env, reinterpret_cast<void**>(&share)) != napi_ok || share == nullptr) {
    share = new UserShare();
    CHECK(napi_set_instance_data(env, share, [](napi_env, void* data, void*) { ReleaseShare(data); }, nullptr));
  }
  if (!share->active) {
    share->active = true;
    g_users.fetch_add(1);
  }
  napi_value result;
  CHECK(napi_create_int32(env, g_users.load(), &result));
  return result;
}

napi_value Release(napi_env env, napi_callback_info) {
  UserShare* share = nullptr;
  if (napi_get_instance_data(env, reinterpret_cast<void**>(&share)) == napi_ok && share != nullptr && share->active) {
    share->active = false;
    g_users.fetch_sub(1);
  }
  napi_value result;
  CHECK(napi_create_int32(env, g_users.load(), &result));
  return result;
}

// setThreadsCap(n): at most n BLAS threads (0: no cap beyond the fair share).
napi_value SetThreadsCap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t n = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 0) return Throw(env, "vae-workbench-sgemm: cap must be a non-negative integer");
  g_cap.store(n);
  napi_value result;
  CHECK(napi_create_int32(env, DesiredThreads(), &result));
  return result;
}

napi_value ThreadsPlan(napi_env env, napi_callback_info) {
  napi_value result, users, cores, desired;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, g_users.load(), &users));
  CHECK(napi_create_int32(env, Cores(), &cores));
  CHECK(napi_create_int32(env, DesiredThreads(), &desired));
  CHECK(napi_set_named_property(env, result, "users", users));
  CHECK(napi_set_named_property(env, result, "cores", cores));
  CHECK(napi_set_named_property(env, result, "threads", desired));
  return result;
}

napi_value SetNumThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t n = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) return Throw(env, "vae-workbench-sgemm: threads must be a positive integer");
  bool done = false;
#if defined(USE_OPENBLAS)
  openblas_set_num_threads(n);
  g_applied.store(n);
  done = true;
#endif
  napi_value result;
  CHECK(napi_get_boolean(env, done, &result));
  return result;
}

napi_value GetNumThreads(napi_env env, napi_callback_info) {
  int n = 0;
#if defined(USE_OPENBLAS)
  n = openblas_get_num_threads();
#endif
  napi_value result;
  CHECK(napi_create_int32(env, n, &result));
  return result;
}

napi_value Info(napi_env env, napi_callback_info) {
  char text[512];
#if defined(USE_OPENBLAS)
  std::snprintf(text, sizeof text, "OpenBLAS %s (%s)", openblas_get_config(), openblas_get_corename());
#else
  std::snprintf(text, sizeof text, "Accelerate");
#endif
  napi_value result;
  CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result));
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setNumThreads", nullptr, SetNumThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getNumThreads", nullptr, GetNumThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sum", nullptr, Sum, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"acquire", nullptr, Acquire, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"release", nullptr, Release, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreadsCap", nullptr, SetThreadsCap, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"threadsPlan", nullptr, ThreadsPlan, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fused", nullptr, Fused, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stats", nullptr, GetStats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"resetStats", nullptr, ResetStats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"coreName", nullptr, CoreName, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv", nullptr, Conv, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return nullptr;
  return exports;
}

}  // namespace

// Context-aware: loadable in several worker threads of one process.
NAPI_MODULE_INIT() { return Init(env, exports); }
