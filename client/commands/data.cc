#include "client/commands/data.h"

#include <memory>

#include "client/data_preview.h"
#include "common/status_macros.h"

namespace deepsweep::client {

void AddDataCommands(CLI::App& app, CommandContext& context) {
  CLI::App* data = app.add_subcommand("data", "Look at the datasets");
  data->require_subcommand(1);

  auto options = std::make_shared<DataPreviewOptions>();
  CLI::App* preview =
      data->add_subcommand("preview", "Write a PNG grid of training examples with their labels");
  preview->add_option("--dataset", options->dataset, "shapeset, fashion-mnist, mnist or cifar10")
      ->capture_default_str();
  preview->add_option("--path", options->path, "Directory of the dataset's files");
  preview->add_option("--color", options->color, "CIFAR-10: grey or rgb")->capture_default_str();
  preview->add_option("--seed", options->seed, "Dataset seed")->capture_default_str();
  preview->add_option("--count", options->count, "Examples to show")->capture_default_str();
  preview->add_option("--columns", options->columns, "Grid columns (0 = about square)")
      ->capture_default_str();
  preview->add_option("--zoom", options->zoom, "Pixels per data pixel")->capture_default_str();
  preview->add_option("--out", options->out, "PNG file to write")->required();
  preview->callback([&context, options] {
    context.Run([&]() -> absl::Status {
      RETURN_IF_ERROR(WriteDataPreview(*options));
      context.out() << "wrote " << options->out << "\n";
      return absl::OkStatus();
    });
  });
}

}  // namespace deepsweep::client
