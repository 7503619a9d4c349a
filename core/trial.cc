#include "core/trial.h"

#include <array>
#include <utility>

namespace deepsweep {
namespace {

constexpr std::array<std::pair<TrialState, std::string_view>, 7> kStateNames = {{
    {TrialState::kPending, "pending"},
    {TrialState::kLeased, "leased"},
    {TrialState::kSucceeded, "succeeded"},
    {TrialState::kDiverged, "diverged"},
    {TrialState::kFailed, "failed"},
    {TrialState::kCancelled, "cancelled"},
    {TrialState::kPruned, "pruned"},
}};

constexpr std::array<std::pair<LayerQuantity, std::string_view>, 3> kQuantityNames = {{
    {LayerQuantity::kActivation, "activation"},
    {LayerQuantity::kBackpropGrad, "backprop_grad"},
    {LayerQuantity::kWeightGrad, "weight_grad"},
}};

template <typename Enum, size_t N>
std::string_view NameOf(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum e) {
  for (const auto& [value, name] : table) {
    if (value == e) return name;
  }
  return "unknown";
}

template <typename Enum, size_t N>
std::optional<Enum> ValueOf(const std::array<std::pair<Enum, std::string_view>, N>& table,
                            std::string_view name) {
  for (const auto& [value, n] : table) {
    if (n == name) return value;
  }
  return std::nullopt;
}

}  // namespace

std::string_view TrialStateName(TrialState state) { return NameOf(kStateNames, state); }
std::optional<TrialState> ParseTrialState(std::string_view name) {
  return ValueOf(kStateNames, name);
}
bool IsTerminal(TrialState state) {
  return state != TrialState::kPending && state != TrialState::kLeased;
}
std::string_view LayerQuantityName(LayerQuantity q) { return NameOf(kQuantityNames, q); }
std::optional<LayerQuantity> ParseLayerQuantity(std::string_view name) {
  return ValueOf(kQuantityNames, name);
}

}  // namespace deepsweep
