#include "ml/mlp.h"

#include <algorithm>
#include <span>
#include <string>
#include <type_traits>

#include "absl/strings/str_cat.h"

namespace deepsweep::ml {
namespace {

// Width of layer l's input: the data for l = 0, else hidden layer l - 1.
int InputWidth(const MlpShape& shape, int l) {
  return l == 0 ? shape.input_dim : shape.hidden[l - 1];
}
int OutputWidth(const MlpShape& shape, int l) {
  return l < static_cast<int>(shape.hidden.size()) ? shape.hidden[l] : shape.output_dim;
}

template <typename Matrix>
void Shape(Matrix& m, Eigen::Index rows, Eigen::Index cols) {
  if (m.rows() != rows || m.cols() != cols) m.resize(rows, cols);
}

// delta_{l-1} = (W_l^T delta_l) .* f'(s_{l-1}), from the current W_l.
template <typename Scalar>
void PropagateDelta(const Mlp<Scalar>& net, int l, Pass<Scalar>& pass, GemmBackend backend) {
  Shape(pass.delta[l - 1], net.weights(l).cols(), pass.delta[l].cols());
  MultiplyAt(net.weights(l), pass.delta[l], pass.delta[l - 1], backend);
  MultiplyByDerivative<Scalar>(net.shape().activation, pass.s[l - 1], pass.a[l - 1],
                               pass.delta[l - 1]);
}

// Values of a matrix or vector: count then elements (float as f32, double as f64).
template <typename Scalar>
void WriteValues(ByteWriter& out, const Scalar* values, Eigen::Index n) {
  if constexpr (std::is_same_v<Scalar, float>) {
    out.F32Array(std::span<const float>(values, static_cast<size_t>(n)));
  } else {
    out.U64(static_cast<uint64_t>(n));
    for (Eigen::Index i = 0; i < n; ++i) out.F64(values[i]);
  }
}

// Reads exactly n values written by WriteValues into `values`.
template <typename Scalar>
void ReadValues(ByteReader& in, Scalar* values, Eigen::Index n) {
  if constexpr (std::is_same_v<Scalar, float>) {
    in.F32ArrayInto(std::span<float>(values, static_cast<size_t>(n)));
  } else {
    const uint64_t count = in.U64();
    if (in.ok() && count != static_cast<uint64_t>(n)) {
      in.Fail(absl::StrCat("array of ", count, " values where ", n, " are expected"));
    }
    for (Eigen::Index i = 0; i < n && in.ok(); ++i) values[i] = in.F64();
  }
}

}  // namespace

absl::Status ValidateShape(const MlpShape& shape) {
  if (shape.input_dim <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("input_dim must be > 0, got ", shape.input_dim));
  }
  if (shape.output_dim < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("output_dim (classes) must be >= 2, got ", shape.output_dim));
  }
  if (shape.hidden.size() > static_cast<size_t>(kMaxHiddenLayers)) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxHiddenLayers, " hidden layers, got ", shape.hidden.size()));
  }
  for (size_t i = 0; i < shape.hidden.size(); ++i) {
    if (shape.hidden[i] <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("hidden layer ", i + 1, " width must be > 0, got ", shape.hidden[i]));
    }
  }
  return absl::OkStatus();
}

template <typename Scalar>
Mlp<Scalar>::Mlp(const MlpShape& shape) : shape_(shape) {
  const int layers = static_cast<int>(shape.hidden.size()) + 1;
  for (int l = 0; l < layers; ++l) {
    weights_.push_back(Matrix::Zero(OutputWidth(shape, l), InputWidth(shape, l)));
    biases_.push_back(Vector::Zero(OutputWidth(shape, l)));
  }
}

template <typename Scalar>
absl::StatusOr<Mlp<Scalar>> Mlp<Scalar>::Create(const MlpShape& shape) {
  if (absl::Status status = ValidateShape(shape); !status.ok()) return status;
  return Mlp(shape);
}

template <typename Scalar>
int64_t Mlp<Scalar>::num_weights() const {
  int64_t total = 0;
  for (const Matrix& w : weights_) total += w.size();
  return total;
}

template <typename Scalar>
void Mlp<Scalar>::Initialize(Init init, double gain, Rng& rng) {
  for (int l = 0; l < num_layers(); ++l) {
    InitializeWeights<Scalar>(init, gain, rng, weights_[l]);
    biases_[l].setZero();
  }
}

template <typename Scalar>
void Mlp<Scalar>::Save(ByteWriter& out) const {
  for (int l = 0; l < num_layers(); ++l) {
    WriteValues(out, weights_[l].data(), weights_[l].size());
    WriteValues(out, biases_[l].data(), biases_[l].size());
  }
}

template <typename Scalar>
void Mlp<Scalar>::Restore(ByteReader& in) {
  for (int l = 0; l < num_layers() && in.ok(); ++l) {
    ReadValues(in, weights_[l].data(), weights_[l].size());
    ReadValues(in, biases_[l].data(), biases_[l].size());
  }
}

template <typename Scalar>
bool Mlp<Scalar>::IsFinite() const {
  for (int l = 0; l < num_layers(); ++l) {
    if (!weights_[l].allFinite() || !biases_[l].allFinite()) return false;
  }
  return true;
}

template <typename Scalar>
void Forward(const Mlp<Scalar>& net, const Eigen::Ref<const typename Mlp<Scalar>::Matrix>& x,
             Pass<Scalar>& pass, GemmBackend backend) {
  const int layers = net.num_layers();
  const Eigen::Index n = x.cols();
  pass.s.resize(layers);
  pass.a.resize(layers - 1);
  for (int l = 0; l < layers; ++l) {
    const auto& w = net.weights(l);
    Shape(pass.s[l], w.rows(), n);
    // s_l = W_l a_{l-1} + b_l 1^T
    if (l == 0) {
      Multiply(w, x, pass.s[l], backend);
    } else {
      Multiply(w, pass.a[l - 1], pass.s[l], backend);
    }
    pass.s[l].colwise() += net.biases(l);
    if (l + 1 < layers) {
      Shape(pass.a[l], w.rows(), n);
      ApplyActivation<Scalar>(net.shape().activation, pass.s[l], pass.a[l]);
    }
  }
}

template <typename Scalar>
BatchLoss Backward(const Mlp<Scalar>& net, Loss loss, const int32_t* labels, Pass<Scalar>& pass,
                   GemmBackend backend) {
  const int layers = net.num_layers();
  const Eigen::Index n = pass.s.back().cols();
  pass.delta.resize(layers);
  // delta_{L-1} = dL/do / n (the cost is the batch mean).
  const BatchLoss out = EvaluateLoss<Scalar>(
      loss, pass.s.back(), labels, Scalar(1) / static_cast<Scalar>(n), &pass.delta.back());
  for (int l = layers - 1; l > 0; --l) PropagateDelta(net, l, pass, backend);
  return out;
}

template <typename Scalar>
void ComputeGradients(const Mlp<Scalar>& net,
                      const Eigen::Ref<const typename Mlp<Scalar>::Matrix>& x,
                      const Pass<Scalar>& pass, Gradients<Scalar>& grads, GemmBackend backend) {
  const int layers = net.num_layers();
  grads.weights.resize(layers);
  grads.biases.resize(layers);
  for (int l = 0; l < layers; ++l) {
    // dW_l = delta_l a_{l-1}^T, db_l = delta_l 1
    grads.weights[l].setZero(net.weights(l).rows(), net.weights(l).cols());
    if (l == 0) {
      AddOuter(Scalar(1), pass.delta[l], x, grads.weights[l], backend);
    } else {
      AddOuter(Scalar(1), pass.delta[l], pass.a[l - 1], grads.weights[l], backend);
    }
    grads.biases[l] = pass.delta[l].rowwise().sum();
  }
}

template <typename Scalar>
BatchLoss EvaluateSet(const Mlp<Scalar>& net, Loss loss,
                      const Eigen::Ref<const typename Mlp<Scalar>::Matrix>& x,
                      const int32_t* labels, Pass<Scalar>& pass, int chunk, GemmBackend backend) {
  BatchLoss total;
  for (Eigen::Index start = 0; start < x.cols(); start += chunk) {
    const Eigen::Index cols = std::min<Eigen::Index>(chunk, x.cols() - start);
    Forward(net, x.middleCols(start, cols), pass, backend);
    const BatchLoss part =
        EvaluateLoss<Scalar>(loss, pass.s.back(), labels + start, Scalar(1), nullptr);
    total.loss += part.loss;
    total.nll += part.nll;
    total.errors += part.errors;
  }
  return total;
}

template <typename Scalar>
BatchLoss Sgd<Scalar>::Step(Mlp<Scalar>& net, Loss loss,
                            const Eigen::Ref<const typename Mlp<Scalar>::Matrix>& x,
                            const int32_t* labels, Pass<Scalar>& pass) {
  const int layers = net.num_layers();
  const Eigen::Index n = x.cols();
  const bool momentum = options_.momentum != 0.0;
  if (momentum && weight_velocity_.empty()) {
    for (int l = 0; l < layers; ++l) {
      weight_velocity_.push_back(
          Mlp<Scalar>::Matrix::Zero(net.weights(l).rows(), net.weights(l).cols()));
      bias_velocity_.push_back(Mlp<Scalar>::Vector::Zero(net.biases(l).size()));
    }
  }
  const Scalar rate = static_cast<Scalar>(
      options_.learning_rate / (1.0 + options_.lr_decay * static_cast<double>(updates_)));
  const Scalar mu = static_cast<Scalar>(options_.momentum);

  Forward(net, x, pass, backend_);
  pass.delta.resize(layers);
  const BatchLoss out = EvaluateLoss<Scalar>(
      loss, pass.s.back(), labels, Scalar(1) / static_cast<Scalar>(n), &pass.delta.back());
  for (int l = layers - 1; l >= 0; --l) {
    auto& w = net.weights(l);
    const auto& input = l == 0 ? x : Eigen::Ref<const typename Mlp<Scalar>::Matrix>(pass.a[l - 1]);
    if (!momentum) {
      // delta_{l-1} = (W_l^T delta_l) .* f'(s_{l-1}) from W_l before the update
      // W_l -= eta delta_l a_{l-1}^T (fused: W_l streams from memory once);
      // b_l -= eta delta_l 1.
      if (l > 0) {
        Shape(pass.delta[l - 1], w.cols(), n);
        MultiplyAtThenAddOuter(-rate, w, pass.delta[l], input, pass.delta[l - 1], backend_);
        MultiplyByDerivative<Scalar>(net.shape().activation, pass.s[l - 1], pass.a[l - 1],
                                     pass.delta[l - 1]);
      } else {
        AddOuter(-rate, pass.delta[l], input, w, backend_);
      }
      net.biases(l).noalias() -= rate * pass.delta[l].rowwise().sum();
    } else {
      // delta_{l-1} must come from W_l before the update below changes it.
      if (l > 0) PropagateDelta(net, l, pass, backend_);
      // V <- mu V - eta dW;  W <- W + V (and the same for b)
      weight_velocity_[l] *= mu;
      AddOuter(-rate, pass.delta[l], input, weight_velocity_[l], backend_);
      w += weight_velocity_[l];
      bias_velocity_[l] = mu * bias_velocity_[l] - rate * pass.delta[l].rowwise().sum();
      net.biases(l) += bias_velocity_[l];
    }
  }
  ++updates_;
  return out;
}

template <typename Scalar>
void Sgd<Scalar>::SaveState(ByteWriter& out) const {
  out.I64(updates_);
  out.U64(weight_velocity_.size());
  for (size_t l = 0; l < weight_velocity_.size(); ++l) {
    WriteValues(out, weight_velocity_[l].data(), weight_velocity_[l].size());
    WriteValues(out, bias_velocity_[l].data(), bias_velocity_[l].size());
  }
}

template <typename Scalar>
void Sgd<Scalar>::RestoreState(ByteReader& in, const Mlp<Scalar>& net) {
  const int64_t updates = in.I64();
  const uint64_t layers = in.U64();
  if (!in.ok()) return;
  if (updates < 0 || (layers != 0 && layers != static_cast<uint64_t>(net.num_layers()))) {
    in.Fail(absl::StrCat("optimizer state of ", updates, " updates and ", layers,
                         " velocity layers does not fit a net of ", net.num_layers(), " layers"));
    return;
  }
  weight_velocity_.clear();
  bias_velocity_.clear();
  for (int l = 0; l < static_cast<int>(layers) && in.ok(); ++l) {
    weight_velocity_.emplace_back(net.weights(l).rows(), net.weights(l).cols());
    bias_velocity_.emplace_back(net.biases(l).size());
    ReadValues(in, weight_velocity_.back().data(), weight_velocity_.back().size());
    ReadValues(in, bias_velocity_.back().data(), bias_velocity_.back().size());
  }
  updates_ = updates;
}

template class Mlp<float>;
template class Mlp<double>;
template class Sgd<float>;
template class Sgd<double>;

#define DS_INSTANTIATE_PASSES(Scalar)                                                             \
  template void Forward<Scalar>(const Mlp<Scalar>&, const Eigen::Ref<const Mlp<Scalar>::Matrix>&, \
                                Pass<Scalar>&, GemmBackend);                                      \
  template BatchLoss Backward<Scalar>(const Mlp<Scalar>&, Loss, const int32_t*, Pass<Scalar>&,    \
                                      GemmBackend);                                               \
  template void ComputeGradients<Scalar>(const Mlp<Scalar>&,                                      \
                                         const Eigen::Ref<const Mlp<Scalar>::Matrix>&,            \
                                         const Pass<Scalar>&, Gradients<Scalar>&, GemmBackend);   \
  template BatchLoss EvaluateSet<Scalar>(const Mlp<Scalar>&, Loss,                                \
                                         const Eigen::Ref<const Mlp<Scalar>::Matrix>&,            \
                                         const int32_t*, Pass<Scalar>&, int, GemmBackend);

DS_INSTANTIATE_PASSES(float)
DS_INSTANTIATE_PASSES(double)

}  // namespace deepsweep::ml
