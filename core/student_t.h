// The Student-t distribution, computed here (not taken from a library): its
// CDF through the regularized incomplete beta function, evaluated by a
// continued fraction, and its quantile by bisection on that CDF. Accuracy is
// about 1e-12 relative.
//
// One implementation for every confidence interval deepsweep reports: the
// CLI's summaries (core/stats.h) call it, and the SQLite views' table of
// 97.5% quantiles (student_t975, docs/SCHEMA.md) is filled from it, so the
// CLI and plain sqlite3 give the same interval.
//
// The functions take arguments in their domain as a precondition and return
// NaN outside it.
// Thread-safety: pure functions, no shared state.
#ifndef DEEPSWEEP_CORE_STUDENT_T_H_
#define DEEPSWEEP_CORE_STUDENT_T_H_

namespace deepsweep {

// I_x(a, b) = B(x; a, b) / B(a, b), for a > 0, b > 0, x in [0, 1].
double RegularizedIncompleteBeta(double a, double b, double x);

// P(T <= t) for T ~ Student-t with `df` > 0 degrees of freedom (df may be
// fractional, as Welch's test needs).
double StudentTCdf(double t, double df);

// P(T > t) for t >= 0, without the cancellation of 1 - StudentTCdf(t, df)
// in the far tail (p-values).
double StudentTUpperTail(double t, double df);

// The t with P(T <= t) = p, for p in (0, 1) and df > 0.
double StudentTQuantile(double p, double df);

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_STUDENT_T_H_
