#include "core/trial_diagnosis.h"

#include <cmath>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace deepsweep {
namespace {

const LayerStat* Find(const Checkpoint& c, int layer, LayerQuantity quantity) {
  for (const LayerStat& s : c.layer_stats) {
    if (s.layer == layer && s.quantity == quantity) return &s;
  }
  return nullptr;
}

int TopLayer(const Checkpoint& c) {
  int top = 0;
  for (const LayerStat& s : c.layer_stats) top = std::max(top, s.layer);
  return top;
}

bool IsBounded(const std::string& activation) {
  return activation == "sigmoid" || activation == "tanh" || activation == "softsign";
}

// 98% of the activations within `range` (a fraction of [hist_lo, hist_hi]) of one end.
bool Pinned(const LayerStat& s, double range) {
  const double width = s.hist_hi - s.hist_lo;
  if (!(width > 0)) return false;
  return s.p98 <= s.hist_lo + range * width || s.p02 >= s.hist_hi - range * width;
}

std::optional<DiagnosisFinding> TopLayerSaturation(const TrialRecord& trial,
                                                   absl::Span<const Checkpoint> checkpoints,
                                                   const DiagnosisOptions& options) {
  const bool bounded = IsBounded(trial.spec.activation);
  std::optional<DiagnosisFinding> finding;
  for (const Checkpoint& c : checkpoints) {
    const LayerStat* top = Find(c, TopLayer(c), LayerQuantity::kActivation);
    if (top == nullptr) continue;
    if (!finding.has_value()) {
      // Say which criterion holds: units at the bounds, or the whole layer
      // pushed to one end of its range (where f' is small).
      std::string why;
      if (top->saturated_fraction >= options.saturated_fraction) {
        why =
            absl::StrFormat("%.0f%% of units within 2%% of a bound", 100 * top->saturated_fraction);
      } else if (bounded && Pinned(*top, options.pinned_range)) {
        const bool low =
            top->p98 <= top->hist_lo + options.pinned_range * (top->hist_hi - top->hist_lo);
        why = low ? absl::StrFormat(
                        "pushed to the low end of [%.3g, %.3g]: 98%% of "
                        "activations below %.3g",
                        top->hist_lo, top->hist_hi, top->p98)
                  : absl::StrFormat(
                        "pushed to the high end of [%.3g, %.3g]: 98%% of "
                        "activations above %.3g",
                        top->hist_lo, top->hist_hi, top->p02);
      }
      if (!why.empty()) {
        finding = DiagnosisFinding{
            .kind = DiagnosisFinding::Kind::kTopLayerSaturated,
            .step = c.step,
            .text = absl::StrFormat("top hidden layer %d saturated at step %d (%s)", top->layer,
                                    c.step, why)};
      }
    } else if (top->saturated_fraction < options.recovered_fraction &&
               !(bounded && Pinned(*top, options.recovered_range))) {
      finding->recovered_step = c.step;
      break;
    }
  }
  if (!finding.has_value()) return std::nullopt;
  finding->text += finding->recovered_step.has_value()
                       ? absl::StrFormat(", recovered by step %d", *finding->recovered_step)
                       : std::string(", not recovered");
  return finding;
}

std::optional<DiagnosisFinding> BackpropShrinking(absl::Span<const Checkpoint> checkpoints,
                                                  const DiagnosisOptions& options) {
  for (const Checkpoint& c : checkpoints) {
    const int top = TopLayer(c);
    if (top < 2) continue;
    std::vector<double> stds;  // stds[l - 1] for layer l
    for (int l = 1; l <= top; ++l) {
      const LayerStat* s = Find(c, l, LayerQuantity::kBackpropGrad);
      if (s == nullptr || !std::isfinite(s->std)) break;
      stds.push_back(s->std);
    }
    if (static_cast<int>(stds.size()) != top || !(stds.back() > 0)) continue;
    bool decreasing = true;
    for (size_t l = 1; l < stds.size(); ++l) decreasing = decreasing && stds[l - 1] < stds[l];
    if (!decreasing || stds.front() / stds.back() > options.shrink_ratio) continue;
    return DiagnosisFinding{
        .kind = DiagnosisFinding::Kind::kBackpropShrinking,
        .step = c.step,
        .text = absl::StrFormat(
            "back-propagated gradients shrink layer by layer at step %d (std %.3g at layer %d, "
            "%.3g at layer 1)",
            c.step, stds.back(), top, stds.front())};
  }
  return std::nullopt;
}

std::optional<DiagnosisFinding> JacobianFarFromOne(absl::Span<const Checkpoint> checkpoints,
                                                   const DiagnosisOptions& options) {
  for (const Checkpoint& c : checkpoints) {
    double sum = 0;
    int layers = 0;
    for (const LayerStat& s : c.layer_stats) {
      if (s.quantity != LayerQuantity::kActivation || !std::isfinite(s.jacobian_sv_mean) ||
          s.jacobian_sv_mean <= 0) {
        continue;
      }
      sum += s.jacobian_sv_mean;
      ++layers;
    }
    if (layers == 0) continue;
    const double mean = sum / layers;
    if (mean >= 1 / options.jacobian_factor && mean <= options.jacobian_factor) continue;
    return DiagnosisFinding{
        .kind = DiagnosisFinding::Kind::kJacobianFarFromOne,
        .step = c.step,
        .text = absl::StrFormat(
            "Jacobian singular values far from 1 at step %d (mean %.2f over %d layers)", c.step,
            mean, layers)};
  }
  return std::nullopt;
}

std::optional<DiagnosisFinding> Divergence(const TrialRecord& trial,
                                           absl::Span<const Checkpoint> checkpoints) {
  for (const Checkpoint& c : checkpoints) {
    // The training loss is a mean over the updates since the previous
    // checkpoint: NaN at step 0 by definition (ml/trainer.h).
    if ((c.step == 0 || std::isfinite(c.train_nll)) && std::isfinite(c.test_nll)) continue;
    return DiagnosisFinding{
        .kind = DiagnosisFinding::Kind::kDiverged,
        .step = c.step,
        .text = absl::StrFormat("diverged: loss not finite at step %d", c.step)};
  }
  if (trial.state != TrialState::kDiverged) return std::nullopt;
  return DiagnosisFinding{
      .kind = DiagnosisFinding::Kind::kDiverged,
      .text = trial.reason.empty() ? std::string("diverged") : "diverged: " + trial.reason};
}

}  // namespace

std::string_view DiagnosisKindName(DiagnosisFinding::Kind kind) {
  switch (kind) {
    case DiagnosisFinding::Kind::kTopLayerSaturated:
      return "top_layer_saturated";
    case DiagnosisFinding::Kind::kBackpropShrinking:
      return "backprop_shrinking";
    case DiagnosisFinding::Kind::kJacobianFarFromOne:
      return "jacobian_far_from_one";
    case DiagnosisFinding::Kind::kDiverged:
      return "diverged";
  }
  return "unknown";
}

std::vector<DiagnosisFinding> DiagnoseTrial(const TrialRecord& trial,
                                            absl::Span<const Checkpoint> checkpoints,
                                            const DiagnosisOptions& options) {
  std::vector<DiagnosisFinding> findings;
  for (std::optional<DiagnosisFinding> f :
       {TopLayerSaturation(trial, checkpoints, options), BackpropShrinking(checkpoints, options),
        JacobianFarFromOne(checkpoints, options), Divergence(trial, checkpoints)}) {
    if (f.has_value()) findings.push_back(std::move(*f));
  }
  return findings;
}

std::string DiagnosisLine(absl::Span<const DiagnosisFinding> findings) {
  if (findings.empty()) return "no warning signs";
  return absl::StrJoin(findings, "; ",
                       [](std::string* out, const DiagnosisFinding& f) { out->append(f.text); });
}

}  // namespace deepsweep
