#include "rpc/conversions.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace deepsweep::rpc {
namespace {

using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::Reflection;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

// Every field of `message` (recursively) holds a non-default value: proves a
// ToProto forgot no field, so that a round trip can prove FromProto did not.
void ExpectEveryFieldSet(const Message& message, const std::string& path = "") {
  const Reflection* reflection = message.GetReflection();
  const auto* descriptor = message.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    const std::string name = path + field->name();
    if (field->is_repeated()) {
      ASSERT_GT(reflection->FieldSize(message, field), 0) << name << " is empty";
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        ExpectEveryFieldSet(reflection->GetRepeatedMessage(message, field, 0), name + "[0].");
      }
      continue;
    }
    EXPECT_TRUE(reflection->HasField(message, field)) << name << " is not set";
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
        reflection->HasField(message, field)) {
      ExpectEveryFieldSet(reflection->GetMessage(message, field), name + ".");
    }
  }
}

// Domain -> proto -> domain -> proto gives the same proto twice, and the
// first proto has every field set.
template <typename Proto, typename Domain>
void ExpectFullRoundTrip(const Domain& value) {
  Proto first;
  ToProto(value, &first);
  ExpectEveryFieldSet(first);
  Domain back;
  ASSERT_TRUE(FromProto(first, &back).ok());
  Proto second;
  ToProto(back, &second);
  EXPECT_TRUE(MessageDifferencer::Equals(first, second)) << "first:\n"
                                                         << first.DebugString() << "second:\n"
                                                         << second.DebugString();
}

TrialSpec DistinctTrialSpec() {
  TrialSpec spec;
  spec.dataset = {.name = "fashion-mnist",
                  .path = "/data/fm",
                  .train_examples = 60000,
                  .validation_examples = 5000,
                  .test_examples = 10000,
                  .preprocess = "standardize"};
  spec.activation = "softsign";
  spec.init = "orthogonal";
  spec.init_gain = 1.5;
  spec.depth = 4;
  spec.width = 800;
  spec.loss = "quadratic";
  spec.learning_rate = 0.003;
  spec.momentum = 0.9;
  spec.lr_decay = 1e-4;
  spec.batch_size = 32;
  spec.updates = 12345;
  spec.checkpoint_every = 500;
  spec.probe_examples = 256;
  spec.histogram_bins = 33;
  spec.jacobian_examples = 5;
  spec.stuck_after_updates = 4000;
  spec.stuck_error = 0.8;
  spec.snapshot_every = 777;
  spec.snapshot_seconds = 12.5;
  spec.keep_weights = "none";
  spec.seed = (uint64_t{1} << 63) + 17;  // the top bit survives the wire
  spec.data_seed = (uint64_t{1} << 63) + 23;
  spec.seed_index = 2;
  return spec;
}

LayerStat DistinctLayerStat(int layer, LayerQuantity quantity) {
  return LayerStat{.layer = layer,
                   .quantity = quantity,
                   .mean = 0.25,
                   .std = 0.5,
                   .p02 = -0.9,
                   .p50 = 0.1,
                   .p98 = 0.95,
                   .saturated_fraction = 0.125,
                   .jacobian_sv_mean = 0.8,
                   .hist_lo = -1,
                   .hist_hi = 1,
                   .histogram = {0.1f, 0.2f, 0.3f, 0.4f}};
}

Checkpoint DistinctCheckpoint() {
  return Checkpoint{.step = 2000,
                    .examples_seen = 20000,
                    .train_nll = 1.2,
                    .test_error = 0.37,
                    .test_nll = 1.1,
                    .validation_error = 0.36,
                    .validation_nll = 1.05,
                    .wall_seconds = 12.5,
                    .layer_stats = {DistinctLayerStat(1, LayerQuantity::kActivation),
                                    DistinctLayerStat(2, LayerQuantity::kWeightGrad)}};
}

TrialRecord DistinctTrial() {
  return TrialRecord{.id = 42,
                     .sweep_id = 7,
                     .index = 3,
                     .spec = DistinctTrialSpec(),
                     .state = TrialState::kDiverged,
                     .attempt = 2,
                     .attempt_limit = 3,
                     .worker_id = "w-1",
                     .compute_path = "avx512 openblas=Haswell",
                     .reason = "loss became NaN at step 1200",
                     .rung = 1000,
                     .final_test_error = 0.5,
                     .final_test_nll = 2.3,
                     .final_validation_error = 0.49,
                     .steps_done = 1200,
                     .updated_at = absl::FromUnixMicros(1'700'000'123'456'789)};
}

TEST(ConversionsTest, TrialSpecRoundTripsEveryField) {
  ExpectFullRoundTrip<v1::TrialSpec>(DistinctTrialSpec());
}

TEST(ConversionsTest, CheckpointWithLayerStatsRoundTripsEveryField) {
  ExpectFullRoundTrip<v1::Checkpoint>(DistinctCheckpoint());
  ExpectFullRoundTrip<v1::LayerStat>(DistinctLayerStat(3, LayerQuantity::kBackpropGrad));
}

TEST(ConversionsTest, TrialRecordRoundTripsEveryField) {
  ExpectFullRoundTrip<v1::Trial>(DistinctTrial());
}

TEST(ConversionsTest, UnsetOptionalsStayUnset) {
  TrialRecord trial = DistinctTrial();
  trial.final_test_error.reset();
  trial.final_test_nll.reset();
  trial.final_validation_error.reset();
  v1::Trial proto;
  ToProto(trial, &proto);
  EXPECT_FALSE(proto.has_final_test_error());
  TrialRecord back;
  ASSERT_TRUE(FromProto(proto, &back).ok());
  EXPECT_FALSE(back.final_test_error.has_value());
  EXPECT_FALSE(back.final_test_nll.has_value());
  EXPECT_FALSE(back.final_validation_error.has_value());

  // 0.0 is a real test error, distinct from "none yet".
  trial.final_test_error = 0.0;
  ToProto(trial, &proto);
  ASSERT_TRUE(FromProto(proto, &back).ok());
  EXPECT_EQ(back.final_test_error, 0.0);
}

TEST(ConversionsTest, SweepRoundTripsEveryField) {
  SweepRecord sweep{.id = 9,
                    .name = "glorot",
                    .spec_yaml = "name: glorot\n",
                    .state = SweepState::kCancelled,
                    .max_attempts = 4,
                    .created_at = absl::FromUnixMillis(1'700'000'000'001),
                    .finished_at = absl::FromUnixMillis(1'700'000'100'002),
                    .counts = {.pending = 1,
                               .leased = 2,
                               .succeeded = 3,
                               .diverged = 4,
                               .failed = 5,
                               .cancelled = 6,
                               .pruned = 7}};
  ExpectFullRoundTrip<v1::Sweep>(sweep);

  sweep.finished_at.reset();
  v1::Sweep proto;
  ToProto(sweep, &proto);
  SweepRecord back;
  ASSERT_TRUE(FromProto(proto, &back).ok());
  EXPECT_FALSE(back.finished_at.has_value());
  EXPECT_EQ(back.counts.total(), 28);
}

TEST(ConversionsTest, WorkerRoundTripsEveryField) {
  WorkerRecord worker{.info = {.worker_id = "host:12:1",
                               .host = "host",
                               .pid = 12,
                               .version = "0.1.0",
                               .cores = 2,
                               .compute_path = "avx2 openblas=Zen"},
                      .first_seen = absl::FromUnixMillis(100'001),
                      .last_seen = absl::FromUnixMillis(200'002),
                      .current_trial = 5};
  ExpectFullRoundTrip<v1::Worker>(worker);
}

TEST(ConversionsTest, QueryRoundTripsEveryField) {
  TrialQuery query{.sweep_id = 3,
                   .conditions = {{"depth", TrialCondition::Op::kGe, "3"},
                                  {"activation", TrialCondition::Op::kNe, "sigmoid"}},
                   .order_by = "final_test_error",
                   .descending = true,
                   .limit = 10,
                   .offset = 20};
  ExpectFullRoundTrip<v1::ListTrialsRequest>(query);
  v1::ListTrialsRequest proto;
  ToProto(query, &proto);
  TrialQuery back;
  ASSERT_TRUE(FromProto(proto, &back).ok());
  ASSERT_EQ(back.conditions.size(), 2u);
  EXPECT_EQ(back.conditions[1].op, TrialCondition::Op::kNe);
  EXPECT_EQ(back.conditions[1].value, "sigmoid");
}

TEST(ConversionsTest, EmptyOrderByMeansId) {
  TrialQuery back;
  ASSERT_TRUE(FromProto(v1::ListTrialsRequest(), &back).ok());
  EXPECT_EQ(back.order_by, "id");
  EXPECT_FALSE(back.sweep_id.has_value());
}

TEST(ConversionsTest, NegativeLimitIsRejected) {
  v1::ListTrialsRequest proto;
  proto.set_limit(-1);
  TrialQuery back;
  absl::Status status = FromProto(proto, &back);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("limit"));
}

TEST(ConversionsTest, AcquisitionWithAndWithoutTrial) {
  Acquisition leased{.trial = DistinctTrial(),
                     .lease = Lease{.trial_id = 42,
                                    .lease_id = "lease-abc",
                                    .attempt = 2,
                                    .deadline = absl::FromUnixMillis(1'700'000'030'250),
                                    .ttl = absl::Milliseconds(30'250)},
                     .retry_after = absl::Milliseconds(1500)};
  ExpectFullRoundTrip<v1::AcquireTrialResponse>(leased);

  Acquisition idle;
  idle.retry_after = absl::Seconds(2);
  v1::AcquireTrialResponse proto;
  ToProto(idle, &proto);
  EXPECT_FALSE(proto.has_trial());
  Acquisition back;
  ASSERT_TRUE(FromProto(proto, &back).ok());
  EXPECT_FALSE(back.trial.has_value());
  EXPECT_FALSE(back.lease.has_value());
  EXPECT_EQ(back.retry_after, absl::Seconds(2));
}

TEST(ConversionsTest, TrialWithoutLeaseIsMalformed) {
  v1::AcquireTrialResponse proto;
  ToProto(DistinctTrial(), proto.mutable_trial());
  Acquisition back;
  EXPECT_EQ(FromProto(proto, &back).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConversionsTest, RenewalOutcomeAndProgressRoundTrip) {
  ExpectFullRoundTrip<v1::LeaseRenewal>(
      RenewResult{.deadline = absl::FromUnixMillis(1'700'000'060'500),
                  .ttl = absl::Milliseconds(45'500),
                  .cancelled = true,
                  .stopped = TrialState::kPruned,
                  .stop_reason = "asha rung 0"});
  TrialOutcome outcome{.state = TrialState::kDiverged, .reason = "stuck at chance"};
  v1::CompleteTrialRequest request;
  ToProto(outcome, &request);
  TrialOutcome back;
  ASSERT_TRUE(FromProto(request, &back).ok());
  EXPECT_EQ(back.state, TrialState::kDiverged);
  EXPECT_EQ(back.reason, "stuck at chance");
  ExpectFullRoundTrip<v1::SweepProgress>(SweepProgress{
      .sweep_id = 4,
      .state = SweepState::kFinished,
      .counts = {.pending = 1,
                 .leased = 1,
                 .succeeded = 1,
                 .diverged = 1,
                 .failed = 1,
                 .cancelled = 1,
                 .pruned = 1},
      .running = {
          {.trial_id = 9, .attempt = 2, .worker_id = "w-1", .steps_done = 400, .updates = 1000}}});
}

// A trial from a sender older than data_seed and the measurement fields
// means what that sender did: the data from the trial seed, the defaults.
TEST(ConversionsTest, UnsetNewTrialFieldsMeanWhatOldSendersDid) {
  v1::TrialSpec proto;
  ToProto(DistinctTrialSpec(), &proto);
  proto.clear_data_seed();
  proto.clear_histogram_bins();
  proto.clear_jacobian_examples();
  proto.clear_stuck_after_updates();
  proto.clear_stuck_error();
  proto.clear_snapshot_every();
  proto.clear_snapshot_seconds();
  proto.clear_keep_weights();
  TrialSpec back;
  ASSERT_TRUE(FromProto(proto, &back).ok());
  const TrialSpec defaults;
  EXPECT_EQ(back.data_seed, back.seed);
  EXPECT_EQ(back.histogram_bins, defaults.histogram_bins);
  EXPECT_EQ(back.jacobian_examples, defaults.jacobian_examples);
  EXPECT_EQ(back.stuck_after_updates, defaults.stuck_after_updates);
  EXPECT_EQ(back.stuck_error, defaults.stuck_error);
  EXPECT_EQ(back.snapshot_every, defaults.snapshot_every);
  EXPECT_EQ(back.snapshot_seconds, defaults.snapshot_seconds);
  EXPECT_EQ(back.keep_weights, defaults.keep_weights);
}

TEST(ConversionsTest, EveryEnumValueRoundTrips) {
  for (TrialState s :
       {TrialState::kPending, TrialState::kLeased, TrialState::kSucceeded, TrialState::kDiverged,
        TrialState::kFailed, TrialState::kCancelled, TrialState::kPruned}) {
    TrialState back;
    ASSERT_TRUE(FromProto(ToProto(s), &back).ok());
    EXPECT_EQ(back, s);
  }
  for (LayerQuantity q :
       {LayerQuantity::kActivation, LayerQuantity::kBackpropGrad, LayerQuantity::kWeightGrad}) {
    LayerQuantity back;
    ASSERT_TRUE(FromProto(ToProto(q), &back).ok());
    EXPECT_EQ(back, q);
  }
  for (SweepState s : {SweepState::kActive, SweepState::kCancelled, SweepState::kFinished}) {
    SweepState back;
    ASSERT_TRUE(FromProto(ToProto(s), &back).ok());
    EXPECT_EQ(back, s);
  }
  for (TrialCondition::Op op :
       {TrialCondition::Op::kEq, TrialCondition::Op::kNe, TrialCondition::Op::kLt,
        TrialCondition::Op::kLe, TrialCondition::Op::kGt, TrialCondition::Op::kGe}) {
    TrialCondition::Op back;
    ASSERT_TRUE(FromProto(ToProto(op), &back).ok());
    EXPECT_EQ(back, op);
  }
}

TEST(ConversionsTest, UnspecifiedEnumIsRejectedWithItsPath) {
  v1::ReportCheckpointsRequest request;
  ToProto(DistinctCheckpoint(), request.add_checkpoints());
  ToProto(DistinctCheckpoint(), request.add_checkpoints());
  request.mutable_checkpoints(1)->mutable_layer_stats(1)->set_quantity(
      v1::LAYER_QUANTITY_UNSPECIFIED);
  std::vector<Checkpoint> checkpoints;
  absl::Status status = FromProtoList(request.checkpoints(), "checkpoints", &checkpoints);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("checkpoints[1].layer_stats[1].quantity: must be one of"));
  EXPECT_THAT(status.message(), HasSubstr("LAYER_QUANTITY_UNSPECIFIED"));
}

TEST(ConversionsTest, UnknownEnumNumberIsRejected) {
  TrialState state;
  absl::Status status = FromProto(static_cast<v1::TrialState>(99), &state);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("got 99"));
}

TEST(ConversionsTest, TimesKeepNanosecondsAndNegativeValues) {
  for (absl::Time t : {absl::UnixEpoch(), absl::FromUnixNanos(1'700'000'000'123'456'789),
                       absl::FromUnixNanos(-1'500'000'000)}) {
    google::protobuf::Timestamp proto;
    ToProto(t, &proto);
    EXPECT_GE(proto.nanos(), 0);
    EXPECT_LT(proto.nanos(), 1'000'000'000);
    EXPECT_EQ(FromProto(proto), t);
  }
  for (absl::Duration d :
       {absl::ZeroDuration(), absl::Milliseconds(1500), -absl::Milliseconds(1500)}) {
    google::protobuf::Duration proto;
    ToProto(d, &proto);
    EXPECT_TRUE(proto.seconds() == 0 || (proto.seconds() < 0) == (proto.nanos() <= 0));
    EXPECT_EQ(FromProto(proto), d);
  }
}

}  // namespace
}  // namespace deepsweep::rpc
