#include "ml/data/idx.h"

#include <filesystem>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "ml/data/file_bytes.h"

namespace deepsweep::ml {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
// Bounds that no real IDX image file exceeds; a header beyond them is corrupt.
constexpr int64_t kMaxImageSide = 4096;

struct IdxHeader {
  std::vector<int64_t> dims;
  size_t data_offset = 0;
  int64_t elements() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }
};

uint32_t ReadBigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Parses and checks the header of an unsigned-byte IDX file with `ndims`
// dimensions; `what` names the expected content in messages.
absl::StatusOr<IdxHeader> ParseHeader(const std::string& path, const std::vector<uint8_t>& bytes,
                                      int ndims, const char* what) {
  const uint32_t expected_magic = (uint32_t{kUnsignedByteType} << 8) | static_cast<uint32_t>(ndims);
  if (bytes.size() < 4) {
    return absl::DataLossError(
        absl::StrCat(path, ": truncated: ", bytes.size(), " bytes, too short for an IDX header"));
  }
  const uint32_t magic = ReadBigEndian32(bytes.data());
  if (magic != expected_magic) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: wrong magic number 0x%08x (expected 0x%08x for an IDX %s file)", path,
                        magic, expected_magic, what));
  }
  IdxHeader header;
  header.data_offset = 4 + 4 * static_cast<size_t>(ndims);
  if (bytes.size() < header.data_offset) {
    return absl::DataLossError(absl::StrCat(path, ": truncated in the header (", bytes.size(),
                                            " bytes, need ", header.data_offset, ")"));
  }
  for (int d = 0; d < ndims; ++d) {
    header.dims.push_back(ReadBigEndian32(bytes.data() + 4 + 4 * d));
  }
  for (size_t d = 1; d < header.dims.size(); ++d) {
    if (header.dims[d] == 0 || header.dims[d] > kMaxImageSide) {
      return absl::DataLossError(
          absl::StrCat(path, ": implausible image dimension ", header.dims[d], " in the header"));
    }
  }
  const int64_t payload = static_cast<int64_t>(bytes.size() - header.data_offset);
  const int64_t expected = header.elements();
  if (payload < expected) {
    return absl::DataLossError(absl::StrCat(path, ": truncated: the header announces ",
                                            header.dims[0], " ", what, "s (", expected,
                                            " data bytes) but only ", payload, " follow"));
  }
  if (payload > expected) {
    return absl::DataLossError(absl::StrCat(path, ": ", payload - expected,
                                            " unexpected bytes after the ", header.dims[0], " ",
                                            what, "s the header announces"));
  }
  return header;
}

// The first of `dir`/`base`.gz and `dir`/`base` that exists.
absl::StatusOr<std::string> FindIdxFile(const std::string& dir, const std::string& base) {
  const std::filesystem::path gz = std::filesystem::path(dir) / (base + ".gz");
  const std::filesystem::path plain = std::filesystem::path(dir) / base;
  std::error_code ec;
  if (std::filesystem::exists(gz, ec)) return gz.string();
  if (std::filesystem::exists(plain, ec)) return plain.string();
  return absl::NotFoundError(
      absl::StrCat(dir, ": missing ", base, ".gz (or ", base, "): no such file"));
}

}  // namespace

absl::StatusOr<ImageTable> ReadIdxImages(const std::string& images_path,
                                         const std::string& labels_path, int num_classes) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> image_bytes, ReadFileBytes(images_path));
  ASSIGN_OR_RETURN(const std::vector<uint8_t> label_bytes, ReadFileBytes(labels_path));
  return ParseIdxImages(images_path, std::move(image_bytes), labels_path, label_bytes, num_classes);
}

absl::StatusOr<ImageTable> ParseIdxImages(const std::string& images_path,
                                          std::vector<uint8_t> image_bytes,
                                          const std::string& labels_path,
                                          const std::vector<uint8_t>& label_bytes,
                                          int num_classes) {
  ASSIGN_OR_RETURN(const IdxHeader image_header, ParseHeader(images_path, image_bytes, 3, "image"));
  ASSIGN_OR_RETURN(const IdxHeader label_header, ParseHeader(labels_path, label_bytes, 1, "label"));

  const int64_t count = image_header.dims[0];
  if (label_header.dims[0] != count) {
    return absl::InvalidArgumentError(absl::StrCat("count mismatch: ", images_path, " holds ",
                                                   count, " images but ", labels_path, " holds ",
                                                   label_header.dims[0], " labels"));
  }
  ImageTable table;
  table.shape = ImageShape{.rows = static_cast<int>(image_header.dims[1]),
                           .cols = static_cast<int>(image_header.dims[2]),
                           .channels = 1};
  table.labels.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    const int label = label_bytes[label_header.data_offset + i];
    if (label >= num_classes) {
      return absl::DataLossError(absl::StrCat(labels_path, ": label ", label, " of example ", i,
                                              " is out of range [0, ", num_classes, ")"));
    }
    table.labels[i] = label;
  }
  image_bytes.erase(image_bytes.begin(),
                    image_bytes.begin() + static_cast<std::ptrdiff_t>(image_header.data_offset));
  table.pixels = std::move(image_bytes);
  return table;
}

absl::StatusOr<RawImageSet> LoadIdxImageSet(const std::string& dir, const std::string& name,
                                            std::vector<std::string> class_names) {
  RawImageSet set;
  set.name = name;
  set.class_names = std::move(class_names);
  ASSIGN_OR_RETURN(const std::string train_images, FindIdxFile(dir, "train-images-idx3-ubyte"));
  ASSIGN_OR_RETURN(const std::string train_labels, FindIdxFile(dir, "train-labels-idx1-ubyte"));
  ASSIGN_OR_RETURN(const std::string test_images, FindIdxFile(dir, "t10k-images-idx3-ubyte"));
  ASSIGN_OR_RETURN(const std::string test_labels, FindIdxFile(dir, "t10k-labels-idx1-ubyte"));
  ASSIGN_OR_RETURN(set.train, ReadIdxImages(train_images, train_labels, set.num_classes()));
  ASSIGN_OR_RETURN(set.test, ReadIdxImages(test_images, test_labels, set.num_classes()));
  if (set.train.shape.rows != set.test.shape.rows || set.train.shape.cols != set.test.shape.cols) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": training images are ", set.train.shape.rows, "x", set.train.shape.cols,
                     " but test images are ", set.test.shape.rows, "x", set.test.shape.cols));
  }
  return set;
}

std::vector<std::string> MnistClassNames() {
  return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
}

std::vector<std::string> FashionMnistClassNames() {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
}

}  // namespace deepsweep::ml
