#include "core/student_t.h"

#include <cmath>
#include <limits>

namespace deepsweep {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ln Gamma(v) for v > 0. lgamma_r instead of std::lgamma: the latter writes the
// global `signgam` and so is not safe to call from several threads.
double LogGamma(double v) {
  int sign = 0;
  return ::lgamma_r(v, &sign);
}

// The continued fraction of I_x(a, b) (DLMF 8.17.22):
//   I_x(a, b) = x^a y^b / (a B(a, b)) * 1 / (1 + d1 / (1 + d2 / (1 + ...)))
//   d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1))
//   d_{2m}   =  m (b - m) x / ((a + 2m - 1)(a + 2m))
// evaluated by the modified Lentz method. It converges fast for
// x < (a + 1) / (a + b + 2); y = 1 - x is passed separately so that x close
// to 1 loses no digits.
double IncompleteBetaFraction(double a, double b, double x, double y) {
  constexpr double kTiny = 1e-300;
  constexpr double kEpsilon = 1e-15;
  constexpr int kMaxTerms = 10000;
  double f = 1.0;  // b0 = 1
  double c = f;
  double d = 0.0;
  for (int j = 1; j <= kMaxTerms; ++j) {
    const int m = j / 2;
    const double coefficient = (j % 2 == 1)
                                   ? -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
                                   : m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1.0 + coefficient * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + coefficient / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = c * d;
    f *= delta;
    if (std::fabs(delta - 1.0) < kEpsilon) break;
  }
  const double log_front = a * std::log(x) + b * std::log(y) - std::log(a) -
                           (LogGamma(a) + LogGamma(b) - LogGamma(a + b));
  return std::exp(log_front) / f;
}

// I_x(a, b) with y = 1 - x given exactly by the caller.
double RegularizedIncompleteBeta(double a, double b, double x, double y) {
  if (!(a > 0) || !(b > 0) || !(x >= 0) || !(y >= 0)) return kNaN;
  if (x == 0) return 0.0;
  if (y == 0) return 1.0;
  if (x < (a + 1) / (a + b + 2)) return IncompleteBetaFraction(a, b, x, y);
  return 1.0 - IncompleteBetaFraction(b, a, y, x);
}

}  // namespace

// 0.5 * I_{df / (df + t^2)}(df / 2, 1 / 2).
double StudentTUpperTail(double t, double df) {
  if (std::isinf(t)) return 0.0;
  const double t2 = t * t;
  return 0.5 * RegularizedIncompleteBeta(df / 2, 0.5, df / (df + t2), t2 / (df + t2));
}

double RegularizedIncompleteBeta(double a, double b, double x) {
  return RegularizedIncompleteBeta(a, b, x, 1.0 - x);
}

double StudentTCdf(double t, double df) {
  if (!(df > 0) || std::isnan(t)) return kNaN;
  const double upper = StudentTUpperTail(std::fabs(t), df);
  return t >= 0 ? 1.0 - upper : upper;
}

double StudentTQuantile(double p, double df) {
  if (!(p > 0 && p < 1) || !(df > 0)) return kNaN;
  if (p == 0.5) return 0.0;
  // Solve in the upper tail, where precision is kept: find t >= 0 with
  // P(T > t) = q, q = min(p, 1 - p), then restore the sign.
  const double q = p > 0.5 ? 1.0 - p : p;
  double lo = 0.0;
  double hi = 1.0;
  while (StudentTUpperTail(hi, df) > q) {
    lo = hi;
    hi *= 2;
    if (std::isinf(hi)) return p > 0.5 ? hi : -hi;
  }
  // Bisection: the tail is monotone, so this always converges; 200 halvings
  // reach the spacing of doubles from any starting bracket.
  for (int i = 0; i < 200 && hi - lo > 4 * std::numeric_limits<double>::epsilon() * hi; ++i) {
    const double mid = lo + (hi - lo) / 2;
    if (StudentTUpperTail(mid, df) > q) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  const double t = lo + (hi - lo) / 2;
  return p > 0.5 ? t : -t;
}

}  // namespace deepsweep
