// Mlp: a dense feedforward net of 0 to 64 hidden layers with a softmax output,
// and the passes that train it (forward, backward, gradients, SGD step).
//
// Notation (column vectors; one example per column, a minibatch is n columns):
//   a_{-1} = x,  s_l = W_l a_{l-1} + b_l,  a_l = f(s_l)   for l = 0 .. L-2
//   s_{L-1} = W_{L-1} a_{L-2} + b_{L-1}   (logits; softmax lives in the loss)
// L = hidden layers + 1 weight layers; W_l is out_l x in_l, column-major.
// delta_l = dCost/ds_l:  delta_{l-1} = (W_l^T delta_l) .* f'(s_{l-1}).
// The cost of a minibatch is the mean of the per-example losses, so
// dCost/dW_l = delta_l a_{l-1}^T and dCost/db_l = delta_l 1 with
// delta_{L-1} = dL/do / n.
//
// Scalar is float for training (products through ml/kernels.h) or double (the
// gradient checks). Weights are stored in Scalar; losses are summed in double.
//
// Thread-safety: an Mlp, a Pass and an Sgd are values used by one thread; a
// const Mlp may be read by several threads with separate Passes.
#ifndef DEEPSWEEP_ML_MLP_H_
#define DEEPSWEEP_ML_MLP_H_

#include <cstdint>
#include <vector>

#include "Eigen/Core"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/byte_codec.h"
#include "ml/activation.h"
#include "ml/initializer.h"
#include "ml/kernels.h"
#include "ml/loss.h"
#include "ml/random.h"

namespace deepsweep::ml {

inline constexpr int kMaxHiddenLayers = 64;

struct MlpShape {
  int input_dim = 0;                          // features per example, > 0
  std::vector<int> hidden;                    // widths of 0 .. 64 hidden layers, each > 0
  int output_dim = 0;                         // classes, >= 2
  Activation activation = Activation::kTanh;  // every hidden layer
};

// InvalidArgument naming the offending field when the shape is unusable.
absl::Status ValidateShape(const MlpShape& shape);

template <typename Scalar>
class Mlp {
 public:
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

  // A net with all parameters zero; call Initialize.
  static absl::StatusOr<Mlp> Create(const MlpShape& shape);

  const MlpShape& shape() const { return shape_; }
  // Weight layers: hidden layers + 1.
  int num_layers() const { return static_cast<int>(weights_.size()); }
  int64_t num_weights() const;

  Matrix& weights(int l) { return weights_[l]; }
  const Matrix& weights(int l) const { return weights_[l]; }
  Vector& biases(int l) { return biases_[l]; }
  const Vector& biases(int l) const { return biases_[l]; }

  // Every W_l from `init` (times gain) in layer order from one Rng; biases 0.
  void Initialize(Init init, double gain, Rng& rng);

  // False if any weight or bias is NaN or +-Inf.
  bool IsFinite() const;

  // Every W_l then b_l in layer order, each as an array of its values
  // (column-major), for snapshots. Restore reads what Save wrote into a net of
  // the same shape and records a size mismatch or truncation in `in`.
  void Save(ByteWriter& out) const;
  void Restore(ByteReader& in);

 private:
  explicit Mlp(const MlpShape& shape);

  MlpShape shape_;
  std::vector<Matrix> weights_;
  std::vector<Vector> biases_;
};

// Buffers of one forward/backward pass over n examples; reused across calls
// (resizing only when n changes).
template <typename Scalar>
struct Pass {
  using Matrix = typename Mlp<Scalar>::Matrix;
  std::vector<Matrix> s;      // s[l], l = 0 .. L-1 (s[L-1] are the logits)
  std::vector<Matrix> a;      // a[l] = f(s[l]), l = 0 .. L-2
  std::vector<Matrix> delta;  // delta[l] = dCost/ds[l], l = 0 .. L-1
};

// Per-layer parameter gradients dCost/dW_l and dCost/db_l.
template <typename Scalar>
struct Gradients {
  std::vector<typename Mlp<Scalar>::Matrix> weights;
  std::vector<typename Mlp<Scalar>::Vector> biases;
};

// Fills pass.s and pass.a for the columns of x (input_dim x n).
template <typename Scalar>
void Forward(const Mlp<Scalar>& net, const Eigen::Ref<const typename Mlp<Scalar>::Matrix>& x,
             Pass<Scalar>& pass, GemmBackend backend = GemmBackend::kAuto);

// After Forward: evaluates the loss against labels (sums over the columns) and
// sets pass.delta for every layer, the gradients of the mean cost over the n
// columns.
template <typename Scalar>
BatchLoss Backward(const Mlp<Scalar>& net, Loss loss, const int32_t* labels, Pass<Scalar>& pass,
                   GemmBackend backend = GemmBackend::kAuto);

// After Backward: dCost/dW_l = delta_l a_{l-1}^T, dCost/db_l = delta_l 1.
template <typename Scalar>
void ComputeGradients(const Mlp<Scalar>& net,
                      const Eigen::Ref<const typename Mlp<Scalar>::Matrix>& x,
                      const Pass<Scalar>& pass, Gradients<Scalar>& grads,
                      GemmBackend backend = GemmBackend::kAuto);

// Loss and error over a whole set, evaluated in chunks of `chunk` columns.
template <typename Scalar>
BatchLoss EvaluateSet(const Mlp<Scalar>& net, Loss loss,
                      const Eigen::Ref<const typename Mlp<Scalar>::Matrix>& x,
                      const int32_t* labels, Pass<Scalar>& pass, int chunk = 1000,
                      GemmBackend backend = GemmBackend::kAuto);

struct SgdOptions {
  double learning_rate = 0.01;  // eta, > 0
  double momentum = 0.0;        // mu in [0, 1); 0 = the paper's plain SGD
  double lr_decay = 0.0;        // eta_t = eta / (1 + lr_decay * t), t = updates done
};

// Minibatch SGD:  V <- mu V - eta_t dCost/dtheta;  theta <- theta + V
// (with mu = 0: theta <- theta - eta_t dCost/dtheta). The step fuses the
// backward pass with the update: delta_{l-1} is formed from W_l before W_l is
// overwritten in place by one rank-n product (W_l += -eta_t delta_l a^T), so
// no gradient matrix is ever materialized when mu = 0.
template <typename Scalar>
class Sgd {
 public:
  explicit Sgd(SgdOptions options, GemmBackend backend = GemmBackend::kAuto)
      : options_(options), backend_(backend) {}

  // One update on the minibatch (x, labels). Returns the batch's loss sums,
  // measured before the update.
  BatchLoss Step(Mlp<Scalar>& net, Loss loss,
                 const Eigen::Ref<const typename Mlp<Scalar>::Matrix>& x, const int32_t* labels,
                 Pass<Scalar>& pass);

  int64_t updates() const { return updates_; }

  // The optimizer's state for snapshots: the update count (the lr decay
  // position) and, with momentum, the velocities. RestoreState expects the
  // velocities of `net`'s shape and records a mismatch in `in`.
  void SaveState(ByteWriter& out) const;
  void RestoreState(ByteReader& in, const Mlp<Scalar>& net);

 private:
  SgdOptions options_;
  GemmBackend backend_;
  int64_t updates_ = 0;
  std::vector<typename Mlp<Scalar>::Matrix> weight_velocity_;
  std::vector<typename Mlp<Scalar>::Vector> bias_velocity_;
};

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_MLP_H_
