// Elementary functions from IEEE-754 additions, multiplications, divisions, comparisons and
// integer work on the bits, nothing else: no fused multiply-add (the file is compiled with
// -ffp-contract=off and never asks for one), no libm, no long double. Each function reduces its
// argument with exact steps to a small one next to a point whose value is a hex literal
// (elementary_tables.h), evaluates a short polynomial there, and keeps the large terms as
// double-doubles (a head and an exact tail) so that the one rounding that matters is the last.
#include "nodes/numeric/elementary.h"

#include <cstdint>

#include "nodes/numeric/elementary_tables.h"

namespace untangle::num {
namespace {

using namespace elementary_tables;
using u64 = std::uint64_t;
using i64 = std::int64_t;
using u128 = unsigned __int128;

constexpr u64 bits(double x) { return __builtin_bit_cast(u64, x); }
constexpr double from_bits(u64 b) { return __builtin_bit_cast(double, b); }
// 2^e for e in [-1022, 1023].
inline double pow2(int e) { return from_bits(u64(e + 1023) << 52); }
inline double abs_of(double x) { return from_bits(bits(x) & ~(u64(1) << 63)); }
inline bool sign_bit(double x) { return bits(x) >> 63; }

constexpr double inf = from_bits(0x7ff0000000000000);
constexpr double nan = from_bits(0x7ff8000000000000);

// A value hi + lo with |lo| small next to |hi|: 106 bits of a number in two doubles.
struct DD {
  double hi, lo;
};
// a + b exactly, for any a, b (Knuth's two-sum).
inline DD two_sum(double a, double b) {
  const double s = a + b, bb = s - a;
  return {s, (a - (s - bb)) + (b - bb)};
}
// a + b exactly, when |a| ≥ |b| or a = 0 (Dekker).
inline DD fast_two_sum(double a, double b) {
  const double s = a + b;
  return {s, b - (s - a)};
}
// x with the low 27 bits of its significand cleared: 26 significant bits, so the product of
// two heads is exact, and so is a head times the 27-bit rest x − head.
inline double head26(double x) { return from_bits(bits(x) & ~u64(0x7ffffff)); }
// a·b = hi + lo to 2^-104 relative (Dekker's product; only the product of the two rests rounds),
// without overflow in the splitting.
inline DD two_prod(double a, double b) {
  const double p = a * b, ah = head26(a), al = a - ah, bh = head26(b), bl = b - bh;
  return {p, (((ah * bh - p) + ah * bl) + al * bh) + al * bl};
}

// Round to a whole number by adding and removing 1.5·2^52 (|z| < 2^51); the sum's low bits
// hold it as a two's complement integer.
constexpr double round_shift = 0x1.8p52;

// ---- exp -----------------------------------------------------------------------------------
// exp(x) = 2^(k/128) · exp(r), r = x − k·ln2/128, |r| ≤ ln2/256; 2^(k/128) = 2^e · T[k mod 128].
constexpr double inv_ln2_128 = 0x1.71547652b82fep+7;
// ln2/128 = hi + lo, hi with 35 significant bits so k·hi is exact for |k| < 2^18.
constexpr double ln2_128_hi = 0x1.62e42fefc0000p-8, ln2_128_lo = -0x1.c610ca86c3899p-44;
// The largest x with exp(x) finite, and the smallest with exp(x) ≥ 2^-1075 (rounding to 2^-1074).
constexpr double exp_max = 0x1.62e42fefa39efp+9, exp_min = -0x1.74910d52d3051p+9;

// exp(x + xt) = (hi + lo)·2^e, hi in [1, 2), |lo| < 2^-7; for |x| ≤ 746 and |xt| ≤ 2^-40.
struct Scaled {
  double hi, lo;
  int e;
};
inline Scaled exp_parts(double x, double xt) {
  double kd = x * inv_ln2_128 + round_shift;
  const i64 k = i64(bits(kd) - bits(round_shift));
  kd -= round_shift;
  // x − k·hi is exact (k·hi is within a factor 2 of x, or 0); the rest rounds at 2^-62.
  const double r = ((x - kd * ln2_128_hi) - kd * ln2_128_lo) + xt;
  // exp(r) − 1, Taylor to r^5: the next term is below 2^-60 relative.
  const double r2 = r * r;
  const double p = r + r2 * ((0x1p-1 + r * 0x1.5555555555555p-3) +
                             r2 * (0x1.5555555555555p-5 + r * 0x1.1111111111111p-7));
  const double* t = exp2_hi_lo[k & 127];
  return {t[0], t[1] + t[0] * p, int(k >> 7)};
}

// exp(x) = hi + lo to about 2^-66 relative, for 1/8 ≤ x ≤ 44: for tanh, which subtracts 1 from
// it. Unlike exp_parts, r's rounding and T·r are kept exact and exp(r) − 1 − r goes to r^6.
inline DD exp_dd(double x) {
  double kd = x * inv_ln2_128 + round_shift;
  const i64 k = i64(bits(kd) - bits(round_shift));
  kd -= round_shift;
  const DD r = two_sum(x - kd * ln2_128_hi, -(kd * ln2_128_lo));
  const double rh = r.hi, r2 = rh * rh;
  const double q = r2 * ((0x1p-1 + rh * 0x1.5555555555555p-3) +
                         r2 * ((0x1.5555555555555p-5 + rh * 0x1.1111111111111p-7) + r2 * 0x1.6c16c16c16c17p-10));
  const double* t = exp2_hi_lo[k & 127];
  // T·(1 + r + q) + T_lo·(1 + r), with the large product T·r exact.
  const DD tr = two_prod(t[0], rh);
  const DD s = fast_two_sum(t[0], tr.hi);
  const double sc = pow2(int(k >> 7));
  return fast_two_sum(s.hi * sc, (s.lo + (tr.lo + (t[0] * (r.lo + q) + t[1] * (1.0 + rh)))) * sc);
}

// (hi + lo)·2^e rounded once, also when it overflows or falls among the subnormals.
inline double exp_finish(const Scaled& s) {
  if (s.e >= -1021 && s.e <= 1022) return (s.hi + s.lo) * pow2(s.e);
  if (s.e > 1024) return inf;
  if (s.e > 0) return ((s.hi + s.lo) * pow2(s.e - 1)) * 2.0;
  if (s.e < -1076) return 0.0;
  // v = (hi + lo)·2^(e+1022), so the result is v·2^-1022; below 1 it is subnormal, a multiple of
  // 2^-1074, so v must be rounded to a multiple of 2^-52 — once, not first to 53 bits. Adding 1
  // puts the rounding point there.
  const double sc = pow2(s.e + 1022);
  const DD v = fast_two_sum(s.hi * sc, s.lo * sc);
  if (v.hi >= 1.0) return v.hi * 0x1p-1022;
  const DD w = fast_two_sum(1.0, v.hi);
  return ((w.hi + (w.lo + v.lo)) - 1.0) * 0x1p-1022;
}

// ---- log -----------------------------------------------------------------------------------
// x = 2^k·z, z in [0x1.6p-1, 0x1.6p0); log x = k·ln2 + log(1/invc) + log1p(r), r = z·invc − 1
// exact and |r| < 2^-7 (see log_table).
constexpr u64 log_off = 0x3fe6000000000000;  // bits of 0x1.6p-1
// ln2 = hi + lo, hi with 42 significant bits so k·hi is exact for every exponent.
constexpr double ln2_hi = 0x1.62e42fefa3800p-1, ln2_lo = 0x1.ef35793c76730p-45;

struct LogReduced {
  double kd, r;
  const LogEntry* t;
};
// x positive and finite, normal or subnormal.
inline LogReduced log_reduce(double x) {
  u64 ix = bits(x);
  int k0 = 0;
  if (ix < 0x0010000000000000) ix = bits(x * 0x1p52), k0 = -52;
  const u64 tmp = ix - log_off;
  const LogEntry* t = &log_table[(tmp >> 45) & 127];
  const double z = from_bits(ix - (tmp & (u64(0xfff) << 52)));
  // z·invc − 1 without rounding: head·invc and rest·invc are exact (invc has at most 9
  // significant bits), head·invc − 1 is exact (the product is within 2^-7 of 1), and the sum is
  // exact because the result fits in a double.
  const double zh = head26(z), zl = z - zh;
  const double r = (zh * t->invc - 1.0) + zl * t->invc;
  return {double((i64(tmp) >> 52) + k0), r, t};
}

// (log1p(r) − r + r²/2)/r³ for |r| < 2^-7: a polynomial of degree 5 fitted to it (Chebyshev,
// mpmath), within 2^-64 of log1p(r)'s size, for log.
inline double log1p_fit(double r, double r2) {
  return (0x1.5555555555564p-2 - r * 0x1.000000000000dp-2) + r2 * (0x1.999999919973cp-3 - r * 0x1.5555554e21ff7p-3) +
         (r2 * r2) * (0x1.24979e8d8acaep-3 - r * 0x1.0004ccdecd0bbp-3);
}
// The same to r^9 by Taylor, within 2^-70 of r, for pow.
inline double log1p_taylor(double r, double r2) {
  return (0x1.5555555555555p-2 - r * 0x1p-2) + r2 * (0x1.999999999999ap-3 - r * 0x1.5555555555555p-3) +
         (r2 * r2) * ((0x1.2492492492492p-3 - r * 0x1p-3) + r2 * 0x1.c71c71c71c71cp-4);
}

// log x = hi + lo to about 2^-73 in absolute terms, for pow, which multiplies it by up to 2^18.
// Unlike log, r² is split exactly.
inline DD log_dd(double x) {
  const LogReduced l = log_reduce(x);
  const double r = l.r, r2 = r * r;
  const DD s = fast_two_sum(l.kd * ln2_hi + l.t->logc_hi, r);  // see log
  const double rh = head26(r), rl = r - rh;
  const DD u = fast_two_sum(s.hi, -0.5 * (rh * rh));  // |log x| > 2^7 r²/2
  const double lo = (s.lo + u.lo) + ((l.kd * ln2_lo + l.t->logc_lo) - (rh * rl + 0.5 * (rl * rl))) +
                    r * r2 * log1p_taylor(r, r2);
  return fast_two_sum(u.hi, lo);
}

// ---- sin, cos ------------------------------------------------------------------------------
constexpr double two_over_pi = 0x1.45f306dc9c883p-1;
// π/2 in four parts, the first three of 33 significant bits so that k·part is exact for k < 2^20.
constexpr double pio2_1 = 0x1.921fb54400000p+0, pio2_2 = 0x1.0b4611a600000p-34, pio2_3 = 0x1.3198a2e000000p-69,
                 pio2_4 = 0x1.b839a252049c1p-104;
constexpr double pio2_hi = 0x1.921fb54442d18p+0, pio2_lo = 0x1.1a62633145c07p-54;
constexpr double pi_hi = 0x1.921fb54442d18p+1, pi_lo = 0x1.1a62633145c07p-53;
constexpr double pio4 = 0x1.921fb54442d18p-1, pi3o4 = 0x1.2d97c7f3321d2p+1;  // rounded

// ax = q·π/2 + hi + lo modulo 2π, |hi + lo| ≤ π/4 (a little more from Cody–Waite's rounded k).
struct Reduced {
  double hi, lo;
  unsigned q;
};

inline int leading_zeros(u128 v) {
  const u64 hi = u64(v >> 64);
  return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll(u64(v));
}

// Payne–Hanek, for ax ≥ 2^20: ax = M·2^E with M a 53-bit integer, and ax·2/π modulo 4 needs only
// the bits of 2/π from 2^(1−E) on — earlier ones give multiples of 4. Four 64-bit words of them
// times M, in integers, give ax·2/π mod 4 to 2^-126; the nearest multiple of a quarter turn is
// at least 2^-62 away for every double, so 60 bits of the remainder are right.
Reduced reduce_large(double ax) {
  const u64 ix = bits(ax);
  const int E = int(ix >> 52) - 1075;  // ≥ −32
  const u64 M = (ix & ((u64(1) << 52) - 1)) | (u64(1) << 52);
  // Word w of two_over_pi_bits weighs 2^(E − 64w) in ax·2/π; w0 is the first with weight < 4.
  const int w0 = E >= 2 ? (E - 2) / 64 + 1 : 0, s = E - 64 * w0;  // s in [−62, 1]
  const u64* w = two_over_pi_bits + w0;
  const u128 p0 = u128(M) * w[0], p1 = u128(M) * w[1], p2 = u128(M) * w[2], p3 = u128(M) * w[3];
  // V = p0·2^192 + p1·2^128 + p2·2^64 + p3 in units of 2^(s−192), as limbs l1..l3 over 64 bits
  // (the lowest limb, p3's low half, only lies beyond 2^-126).
  u128 acc = (p3 >> 64) + u64(p2);
  const u64 l1 = u64(acc);
  acc = (acc >> 64) + (p2 >> 64) + u64(p1);
  const u64 l2 = u64(acc);
  acc = (acc >> 64) + (p1 >> 64) + u64(p0);
  const u64 l3 = u64(acc);
  // The 128 bits from weight 2^1 down to 2^-126: V shifted right by 66 − s = 64 + m.
  const int m = 2 - s;  // in [1, 64]
  const u64 qlo = m == 64 ? l2 : (l1 >> m) | (l2 << (64 - m));
  const u64 qhi = m == 64 ? l3 : (l2 >> m) | (l3 << (64 - m));
  unsigned q = unsigned(qhi >> 62);
  u128 f = ((u128(qhi) << 64) | qlo) & ((u128(1) << 126) - 1);
  const bool past_half = f >> 125;
  if (past_half) q += 1, f = (u128(1) << 126) - f;
  if (f == 0) return {0.0, 0.0, q & 3};  // never for a double; keeps leading_zeros defined
  // f·2^-126 quarter turns, as a double-double (53 bits, then the next 64), times π/2.
  const int lz = leading_zeros(f);
  const u128 v = f << lz;
  const u64 top = u64(v >> 64), low = u64(v);
  const double fh = double(i64(top >> 11)) * pow2(-51 - lz);
  const double fl = double(i64(top & 0x7ff)) * pow2(-62 - lz) + double(i64(low >> 11)) * pow2(-115 - lz);
  DD r = two_prod(fh, pio2_hi);
  r = fast_two_sum(r.hi, r.lo + (fh * pio2_lo + fl * pio2_hi));
  if (past_half) r = {-r.hi, -r.lo};
  return {r.hi, r.lo, q & 3};
}

// ax ≥ 0 and finite.
inline Reduced reduce(double ax) {
  if (ax <= pio4) return {ax, 0.0, 0};
  if (ax >= 0x1p20) return reduce_large(ax);
  // Cody–Waite: ax − k·π/2 with π/2 to 152 bits; the first subtraction is exact, the others are
  // kept as double-doubles, so even a remainder 2^-60 small keeps 90 bits.
  double kd = ax * two_over_pi + round_shift;
  const unsigned q = unsigned(bits(kd)) & 3;
  kd -= round_shift;
  const double a = ax - kd * pio2_1;
  const DD b = two_sum(a, -(kd * pio2_2));
  const DD c = two_sum(b.hi, -(kd * pio2_3));
  const DD r = fast_two_sum(c.hi, (b.lo + c.lo) - kd * pio2_4);
  return {r.hi, r.lo, q};
}

// sin or cos of |r| = hi + lo, hi ≥ 0, |r| ≤ π/4 + 2^-30. With a = j/32 the nearest table point
// and t = |r| − a, |t| ≤ 1/64, both are P + Q·t + P·(cos t − 1) + Q·(sin t − t): (P, Q) is
// (sin a, cos a) for the sine, (cos a, −sin a) for the cosine. P and Q come as 26-bit heads and
// tails, so the head sum P + Q·t_head is exact; the rest is below 2^-12 of the result (|P| is at
// least |Q·t| and the result at least |P|/2), so its roundings hardly count. The first-order
// effect of lo is Q·lo.
struct Near {
  const double* e;  // sin a, cos a as in sincos_table
  double th, thh, thl, lo, cm, sm;
};
inline Near near_point(double hi, double lo) {
  const int j = int(hi * 32.0 + 0.5);
  const double th = hi - j * 0x1p-5;  // exact: hi and j/32 are within a factor 2, or j = 0
  const double thh = head26(th), t2 = th * th;
  // sin t − t and cos t − 1, Taylor to t^7 and t^8 (the next terms are below 2^-63).
  const double sm = th * t2 * (-0x1.5555555555555p-3 + t2 * (0x1.1111111111111p-7 - t2 * 0x1.a01a01a01a01ap-13));
  const double cm =
      t2 * (-0x1p-1 + t2 * (0x1.5555555555555p-5 + t2 * (-0x1.6c16c16c16c17p-10 + t2 * 0x1.a01a01a01a01ap-16)));
  return {sincos_table[j], th, thh, th - thh, lo, cm, sm};
}
inline double near_value(const Near& n, bool cosine) {
  const int i = cosine ? 2 : 0;
  const u64 flip = u64(cosine) << 63;
  const double ph = n.e[i], pt = n.e[i + 1];
  const double qh = from_bits(bits(n.e[2 - i]) ^ flip), qt = from_bits(bits(n.e[3 - i]) ^ flip);
  const DD u = fast_two_sum(ph, qh * n.thh);
  return u.hi + (((u.lo + pt) + (qh * n.thl + qt * n.th + qh * n.lo)) + ((ph + pt) * n.cm + (qh + qt) * n.sm));
}

// sin(q·π/2 + r): ±sin r for even q, ±cos r for odd q, the sign from q's half turn and, for the
// sine of r, from r's sign.
inline double quadrant_sin(unsigned q, const Near& n, bool r_negative) {
  const bool odd = q & 1;
  const bool negative = ((q >> 1) & 1) != (!odd && r_negative);
  return from_bits(bits(near_value(n, odd)) ^ (u64(negative) << 63));
}

struct SinCos {
  double sin, cos;
};

// sin and cos of any finite x, from the quadrant and the remainder.
// Inlined into sin, cos and sincos, so each computes only what it returns.
[[gnu::always_inline]] inline SinCos sincos_finite(double x, bool want_sin, bool want_cos) {
  const Reduced r = reduce(abs_of(x));
  const bool r_negative = r.hi < 0;
  const Near n = r_negative ? near_point(-r.hi, -r.lo) : near_point(r.hi, r.lo);
  SinCos v{0.0, 0.0};
  if (want_sin) v.sin = from_bits(bits(quadrant_sin(r.q, n, r_negative)) ^ (bits(x) & (u64(1) << 63)));
  if (want_cos) v.cos = quadrant_sin(r.q + 1, n, r_negative);
  return v;
}

// ---- atan2 ---------------------------------------------------------------------------------
// atan(n/d) for 0 < n ≤ d finite, as a double-double: atan(c) + atan(u) with c = j/64 nearest
// n/d and u = (n − c·d)/(d + c·n), |u| ≤ 1/128, computed to 2^-100.
inline DD atan_ratio(double n, double d) {
  const double t = n / d;
  // Here atan(t) = t(1 − t²/3 …) rounds like t itself, to within 2^-61.
  if (t < 0x1p-30) return {t, 0.0};
  // Keep Dekker's products clear of overflow and of underflow in their tails.
  if (d > 0x1p500) n *= 0x1p-600, d *= 0x1p-600;
  if (d < 0x1p-500) n *= 0x1p600, d *= 0x1p600;
  const int j = int(t * 64.0 + 0.5);
  const double c = j * 0x1p-6;
  // c has 7 bits, so c·head and c·rest are exact; n − c·d_head is exact (the two are within a
  // factor 2 when j ≥ 1), so the numerator is exact and the denominator good to 2^-80.
  const double dh = head26(d), dl = d - dh, nh = head26(n), nl = n - nh;
  const DD num = two_sum(n - c * dh, -(c * dl));
  DD den = fast_two_sum(d, c * nh);
  den = fast_two_sum(den.hi, den.lo + c * nl);  // normalised, or the one correction step below falls short
  const double uh = num.hi / den.hi;
  const DD m = two_prod(uh, den.hi);
  const double ul = ((((num.hi - m.hi) - m.lo) + num.lo) - uh * den.lo) / den.hi;
  // atan(u) − u, Taylor to u^9 (the next term is below 2^-73).
  const double u2 = uh * uh;
  const double pa = -0x1.5555555555555p-2 + u2 * (0x1.999999999999ap-3 + u2 * (-0x1.2492492492492p-3 + u2 * 0x1.c71c71c71c71cp-4));
  const double tail = uh * u2 * pa;
  const DD s = fast_two_sum(atan_hi_lo[j][0], uh);  // atan(c) ≥ 1/64 > |u| unless c = 0
  return {s.hi, s.lo + ((atan_hi_lo[j][1] + ul) + tail)};
}

// hi + lo − a, for the constant hi + lo larger than a.
inline DD minus(double hi, double lo, const DD& a) {
  const DD s = two_sum(hi, -a.hi);
  return {s.hi, s.lo + (lo - a.lo)};
}

}  // namespace

double exp(double x) {
  const u64 top = (bits(x) >> 52) & 0x7ff;
  // Away from |x| in [2^-54, 512): tiny, huge, infinite or NaN.
  if (top - 0x3c9 >= 0x408 - 0x3c9) {
    if (top < 0x3c9) return 1.0 + x;  // exp(x) = 1 + x + x²/2… rounds like 1 + x
    if (x != x) return x + x;
    if (x > exp_max) return inf;
    if (x < exp_min) return 0.0;
    return exp_finish(exp_parts(x, 0.0));
  }
  const Scaled s = exp_parts(x, 0.0);
  return (s.hi + s.lo) * pow2(s.e);
}

double log(double x) {
  const u64 ix = bits(x);
  // Away from the positive normal numbers: zero, subnormal, negative, infinite or NaN.
  if (ix - 0x0010000000000000 >= 0x7ff0000000000000 - 0x0010000000000000) {
    if (x != x) return x + x;
    if (x == 0) return -inf;
    if (sign_bit(x)) return nan;
    if (x == inf) return x;
  }
  const LogReduced l = log_reduce(x);
  const double r = l.r, r2 = r * r;
  // k·ln2_hi + logc_hi is exact (both are multiples of 2^-42), and adding r loses nothing that
  // fast_two_sum does not catch: the sum is 0 or at least 2^-8, and |r| < 2^-7.
  const DD s = fast_two_sum(l.kd * ln2_hi + l.t->logc_hi, r);
  // −r²/2 + r³/3 … is below 2^-15, and where log x is below 2^-8, z is in an interval with invc = 1
  // and log x ≈ r, so its roundings stay far below the result's last bit.
  const double p = r2 * (-0.5 + r * log1p_fit(r, r2));
  return s.hi + ((s.lo + (l.kd * ln2_lo + l.t->logc_lo)) + p);
}

namespace {
// y an integer that is odd, an even one, or no integer (y finite and nonzero).
enum class Parity { none, odd, even };
Parity parity(double y) {
  const u64 iy = bits(y);
  const int e = int((iy >> 52) & 0x7ff) - 1023;
  if (e < 0) return Parity::none;
  if (e > 52) return Parity::even;
  const u64 frac = (u64(1) << (52 - e)) - 1;
  if (iy & frac) return Parity::none;
  return (iy >> (52 - e)) & 1 ? Parity::odd : Parity::even;
}
}  // namespace

double pow(double x, double y) {
  if (y == 0 || x == 1.0) return 1.0;  // even for NaN
  if (x != x || y != y) return x + y;
  const double ax = abs_of(x);
  if (abs_of(y) == inf) {
    if (ax == 1.0) return 1.0;  // (−1)^±∞
    return (ax > 1.0) == (y > 0) ? inf : 0.0;
  }
  const Parity py = parity(y);
  const bool neg = sign_bit(x) && py == Parity::odd;
  if (ax == 0 || ax == inf) {
    const double v = (ax == 0) == (y > 0) ? 0.0 : inf;
    return neg ? -v : v;
  }
  if (sign_bit(x) && py == Parity::none) return nan;
  // x^y = exp(y·log|x|), y·log|x| as a double-double.
  const DD l = log_dd(ax);
  DD p = two_prod(y, l.hi);
  if (!(abs_of(p.hi) <= 746.0)) {  // far past overflow or underflow, or infinite
    const double v = p.hi > 0 ? inf : 0.0;
    return neg ? -v : v;
  }
  const double v = exp_finish(exp_parts(p.hi, p.lo + y * l.lo));
  return neg ? -v : v;
}

double sin(double x) {
  if (!(abs_of(x) < inf)) return x - x;
  return sincos_finite(x, true, false).sin;
}

double cos(double x) {
  if (!(abs_of(x) < inf)) return x - x;
  return sincos_finite(x, false, true).cos;
}

void sincos(double x, double& s, double& c) {
  if (!(abs_of(x) < inf)) {
    s = c = x - x;
    return;
  }
  const SinCos v = sincos_finite(x, true, true);
  s = v.sin, c = v.cos;
}

double atan2(double y, double x) {
  if (x != x || y != y) return x + y;
  const bool yneg = sign_bit(y), xneg = sign_bit(x);
  const double ax = abs_of(x), ay = abs_of(y);
  double v;
  if (ay == 0) {
    if (!xneg) return y;  // ±0 for x ≥ +0
    v = pi_hi;            // x ≤ −0
  } else if (ax == 0) {
    v = pio2_hi;
  } else if (ax == inf) {
    v = ay == inf ? (xneg ? pi3o4 : pio4) : (xneg ? pi_hi : 0.0);
  } else if (ay == inf) {
    v = pio2_hi;
  } else {
    // The angle of (ax, ay), from the smaller over the larger, then reflected.
    DD a = ay > ax ? minus(pio2_hi, pio2_lo, atan_ratio(ax, ay)) : atan_ratio(ay, ax);
    if (xneg) a = minus(pi_hi, pi_lo, a);
    v = a.hi + a.lo;
  }
  return yneg ? -v : v;
}

double tanh(double x) {
  const double ax = abs_of(x);
  double v;
  if (!(ax < 22.0)) {
    if (x != x) return x + x;
    v = 1.0;  // 1 − tanh(22) < 2^-62
  } else if (ax < 0x1p-27) {
    return x;  // tanh x = x(1 − x²/3 …) is x to within 2^-55
  } else if (ax < 0x1p-4) {
    // Taylor to x^13 (the next term is below 2^-65 of x).
    const double z = ax * ax, z2 = z * z;
    const double p = (-0x1.5555555555555p-2 + z * 0x1.1111111111111p-3) +
                     z2 * ((-0x1.ba1ba1ba1ba1cp-5 + z * 0x1.664f4882c10fap-6) + z2 * (-0x1.226e355e6c23dp-7 + z * 0x1.d6d3d0e157de0p-9));
    v = ax + ax * z * p;
  } else {
    // (E − 1)/(E + 1), E = exp(2ax) as a double-double; the quotient gets one correction step.
    const DD e = exp_dd(2.0 * ax);
    DD n = fast_two_sum(e.hi, -1.0), d = fast_two_sum(e.hi, 1.0);  // e.hi > 1.13
    n = fast_two_sum(n.hi, n.lo + e.lo), d = fast_two_sum(d.hi, d.lo + e.lo);
    const double q = n.hi / d.hi;
    const DD m = two_prod(q, d.hi);
    v = q + ((((n.hi - m.hi) - m.lo) + n.lo) - q * d.lo) / d.hi;
  }
  return sign_bit(x) ? -v : v;
}

}  // namespace untangle::num
