#include "ml/activation.h"

#include <cmath>
#include <numbers>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace deepsweep::ml {
namespace {

constexpr double kLeakySlope = 0.01;
constexpr double kSeluLambda = 1.0507009873554805;
constexpr double kSeluAlpha = 1.6732632423543772;
constexpr double kSaturationMargin = 0.02;

constexpr Activation kAll[] = {
    Activation::kSigmoid, Activation::kTanh,      Activation::kSoftsign,
    Activation::kRelu,    Activation::kLeakyRelu, Activation::kElu,
    Activation::kSelu,    Activation::kGelu,      Activation::kIdentity,
};

// Standard normal cdf Phi and density phi, for gelu.
double NormalCdf(double s) { return 0.5 * (1.0 + std::erf(s / std::numbers::sqrt2)); }
double NormalPdf(double s) { return std::exp(-0.5 * s * s) / std::sqrt(2.0 * std::numbers::pi); }

}  // namespace

std::string_view ActivationName(Activation f) {
  switch (f) {
    case Activation::kSigmoid:
      return "sigmoid";
    case Activation::kTanh:
      return "tanh";
    case Activation::kSoftsign:
      return "softsign";
    case Activation::kRelu:
      return "relu";
    case Activation::kLeakyRelu:
      return "leaky_relu";
    case Activation::kElu:
      return "elu";
    case Activation::kSelu:
      return "selu";
    case Activation::kGelu:
      return "gelu";
    case Activation::kIdentity:
      return "identity";
  }
  return "unknown";
}

absl::StatusOr<Activation> ParseActivation(std::string_view name) {
  std::string valid;
  for (Activation f : kAll) {
    if (name == ActivationName(f)) return f;
    absl::StrAppend(&valid, valid.empty() ? "" : ", ", std::string(ActivationName(f)));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown activation '", std::string(name), "'; valid: ", valid));
}

std::optional<std::pair<double, double>> BoundedRange(Activation f) {
  switch (f) {
    case Activation::kSigmoid:
      return std::make_pair(0.0, 1.0);
    case Activation::kTanh:
    case Activation::kSoftsign:
      return std::make_pair(-1.0, 1.0);
    default:
      return std::nullopt;
  }
}

template <typename Scalar>
void ApplyActivation(Activation f, const Eigen::Ref<const ActivationMatrix<Scalar>>& s,
                     Eigen::Ref<ActivationMatrix<Scalar>> a) {
  const auto x = s.array();
  auto y = a.array();
  const Scalar zero(0), one(1);
  switch (f) {
    case Activation::kSigmoid:
      y = x.logistic();
      break;
    case Activation::kTanh:
      y = x.tanh();
      break;
    case Activation::kSoftsign:
      y = x / (one + x.abs());
      break;
    case Activation::kRelu:
      y = x.max(zero);
      break;
    case Activation::kLeakyRelu:
      y = (x > zero).select(x, Scalar(kLeakySlope) * x);
      break;
    case Activation::kElu:
      y = (x > zero).select(x, x.expm1());
      break;
    case Activation::kSelu:
      y = Scalar(kSeluLambda) * (x > zero).select(x, Scalar(kSeluAlpha) * x.expm1());
      break;
    case Activation::kGelu:
      y = x.unaryExpr([](Scalar v) { return static_cast<Scalar>(v * NormalCdf(v)); });
      break;
    case Activation::kIdentity:
      if (a.data() != s.data()) y = x;
      break;
  }
}

template <typename Scalar>
void MultiplyByDerivative(Activation f, const Eigen::Ref<const ActivationMatrix<Scalar>>& s,
                          const Eigen::Ref<const ActivationMatrix<Scalar>>& a,
                          Eigen::Ref<ActivationMatrix<Scalar>> g) {
  const auto x = s.array();
  const auto y = a.array();
  auto d = g.array();
  const Scalar zero(0), one(1);
  switch (f) {
    case Activation::kSigmoid:  // f' = f (1 - f)
      d *= y * (one - y);
      break;
    case Activation::kTanh:  // f' = 1 - f^2
      d *= one - y.square();
      break;
    case Activation::kSoftsign:  // f' = 1 / (1 + |s|)^2
      d *= (one + x.abs()).square().inverse();
      break;
    case Activation::kRelu:
      d = (x > zero).select(d, zero);
      break;
    case Activation::kLeakyRelu:
      d = (x > zero).select(d, Scalar(kLeakySlope) * d);
      break;
    case Activation::kElu:  // f' = e^s = f + 1 for s <= 0
      d = (x > zero).select(d, d * (y + one));
      break;
    case Activation::kSelu:  // f' = f + L A for s <= 0
      d = (x > zero).select(Scalar(kSeluLambda) * d, d * (y + Scalar(kSeluLambda * kSeluAlpha)));
      break;
    case Activation::kGelu:
      d *= x.unaryExpr(
          [](Scalar v) { return static_cast<Scalar>(NormalCdf(v) + v * NormalPdf(v)); });
      break;
    case Activation::kIdentity:
      break;
  }
}

double Derivative(Activation f, double s, double a) {
  switch (f) {
    case Activation::kSigmoid:
      return a * (1.0 - a);
    case Activation::kTanh:
      return 1.0 - a * a;
    case Activation::kSoftsign:
      return 1.0 / ((1.0 + std::abs(s)) * (1.0 + std::abs(s)));
    case Activation::kRelu:
      return s > 0 ? 1.0 : 0.0;
    case Activation::kLeakyRelu:
      return s > 0 ? 1.0 : kLeakySlope;
    case Activation::kElu:
      return s > 0 ? 1.0 : a + 1.0;
    case Activation::kSelu:
      return s > 0 ? kSeluLambda : a + kSeluLambda * kSeluAlpha;
    case Activation::kGelu:
      return NormalCdf(s) + s * NormalPdf(s);
    case Activation::kIdentity:
      return 1.0;
  }
  return 1.0;
}

bool IsSaturated(Activation f, double s, double a) {
  switch (f) {
    case Activation::kSigmoid:
      return a < kSaturationMargin || a > 1.0 - kSaturationMargin;
    case Activation::kTanh:
    case Activation::kSoftsign:
      return std::abs(a) > 1.0 - kSaturationMargin;
    case Activation::kRelu:
      return a == 0.0;
    case Activation::kLeakyRelu:
      return s <= 0.0;
    case Activation::kElu:
      return a < -(1.0 - kSaturationMargin);
    case Activation::kSelu:
      return a < -(1.0 - kSaturationMargin) * kSeluLambda * kSeluAlpha;
    case Activation::kGelu:
      return std::abs(Derivative(f, s, a)) < kSaturationMargin;
    case Activation::kIdentity:
      return false;
  }
  return false;
}

template void ApplyActivation<float>(Activation, const Eigen::Ref<const ActivationMatrix<float>>&,
                                     Eigen::Ref<ActivationMatrix<float>>);
template void ApplyActivation<double>(Activation, const Eigen::Ref<const ActivationMatrix<double>>&,
                                      Eigen::Ref<ActivationMatrix<double>>);
template void MultiplyByDerivative<float>(Activation,
                                          const Eigen::Ref<const ActivationMatrix<float>>&,
                                          const Eigen::Ref<const ActivationMatrix<float>>&,
                                          Eigen::Ref<ActivationMatrix<float>>);
template void MultiplyByDerivative<double>(Activation,
                                           const Eigen::Ref<const ActivationMatrix<double>>&,
                                           const Eigen::Ref<const ActivationMatrix<double>>&,
                                           Eigen::Ref<ActivationMatrix<double>>);

}  // namespace deepsweep::ml
