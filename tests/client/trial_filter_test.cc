#include "client/trial_filter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/trial_query.h"
#include "gtest/gtest.h"

namespace deepsweep::client {
namespace {

using Op = TrialCondition::Op;

struct ConditionCase {
  std::string text;
  std::string field;
  Op op;
  std::string value;
};

TEST(ParseTrialConditionTest, AcceptsEveryOperator) {
  const ConditionCase cases[] = {
      {"activation=tanh", "activation", Op::kEq, "tanh"},
      {"activation==tanh", "activation", Op::kEq, "tanh"},
      {"init!=standard", "init", Op::kNe, "standard"},
      {"depth<3", "depth", Op::kLt, "3"},
      {"depth<=3", "depth", Op::kLe, "3"},
      {"depth>3", "depth", Op::kGt, "3"},
      {"depth>=3", "depth", Op::kGe, "3"},
      {"state=succeeded", "state", Op::kEq, "succeeded"},
      {"learning_rate<=1e-2", "learning_rate", Op::kLe, "1e-2"},
      {"final_test_error<0.25", "final_test_error", Op::kLt, "0.25"},
      {"seed=9223372036854775807", "seed", Op::kEq, "9223372036854775807"},
      {"worker_id=host-1:42", "worker_id", Op::kEq, "host-1:42"},
      {"dataset=fashion-mnist", "dataset", Op::kEq, "fashion-mnist"},
  };
  for (const ConditionCase& c : cases) {
    auto condition = ParseTrialCondition(c.text);
    ASSERT_TRUE(condition.ok()) << c.text << ": " << condition.status();
    EXPECT_EQ(condition->field, c.field) << c.text;
    EXPECT_EQ(condition->op, c.op) << c.text;
    EXPECT_EQ(condition->value, c.value) << c.text;
    EXPECT_EQ(absl::StrCat(condition->field, std::string(TrialConditionOpSymbol(condition->op)),
                           condition->value) == c.text,
              c.text.find("==") == std::string::npos)
        << "round trip of " << c.text;
  }
}

struct BadCase {
  std::string text;
  std::string mentions;  // the error message must name this
};

TEST(ParseTrialConditionTest, RejectsMalformedWithClearMessage) {
  const BadCase cases[] = {
      {"tanh", "FIELD OP VALUE"},
      {"=tanh", "FIELD OP VALUE"},
      {"depth>=", "no value"},
      {"depth=>3", "operator"},
      {"depth===3", "operator"},
      {"colour=red", "unknown trial field 'colour'"},
      {"depth>=three", "condition on depth: expected an integer, got \"three\""},
      {"depth=3.5", "condition on depth: expected an integer"},
      {"learning_rate=fast", "condition on learning_rate: expected a number"},
      {"state=done", "unknown state \"done\""},
  };
  for (const BadCase& c : cases) {
    auto condition = ParseTrialCondition(c.text);
    ASSERT_FALSE(condition.ok()) << c.text;
    EXPECT_EQ(condition.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(condition.status().message().find(c.mentions), std::string::npos)
        << c.text << " -> " << condition.status().message();
  }
}

TEST(ParseTrialQueryTest, BuildsQuery) {
  TrialFilterArgs args;
  args.sweep_id = 7;
  args.conditions = {"activation=tanh", "depth>=3", "state=succeeded"};
  args.sort = "-final_test_error";
  args.limit = 10;
  auto query = ParseTrialQuery(args);
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->sweep_id, 7);
  ASSERT_EQ(query->conditions.size(), 3u);
  EXPECT_EQ(query->conditions[1].field, "depth");
  EXPECT_EQ(query->conditions[1].op, Op::kGe);
  EXPECT_EQ(query->order_by, "final_test_error");
  EXPECT_TRUE(query->descending);
  EXPECT_EQ(query->limit, 10);
}

TEST(ParseTrialQueryTest, DefaultsAndErrors) {
  auto query = ParseTrialQuery(TrialFilterArgs{});
  ASSERT_TRUE(query.ok());
  EXPECT_FALSE(query->sweep_id.has_value());
  EXPECT_EQ(query->order_by, "id");
  EXPECT_FALSE(query->descending);
  EXPECT_EQ(query->limit, 0);

  TrialFilterArgs bad_sort;
  bad_sort.sort = "-speed";
  EXPECT_NE(ParseTrialQuery(bad_sort).status().message().find("'speed'"), std::string::npos);
  bad_sort.sort = "-";
  EXPECT_EQ(ParseTrialQuery(bad_sort).status().code(), absl::StatusCode::kInvalidArgument);
  TrialFilterArgs bad_limit;
  bad_limit.limit = -1;
  EXPECT_EQ(ParseTrialQuery(bad_limit).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TrialFilterFieldsTest, ListsTheContractFields) {
  EXPECT_EQ(TrialFilterFields().size(), 23u);
  EXPECT_EQ(TrialFilterFields().front(), "id");
  EXPECT_EQ(TrialFilterFields().back(), "reason");
  // Every column results prints is a field, under the name it prints, but
  // the timestamp.
  for (const char* name : {"index", "final_test_nll", "final_validation_error", "reason"}) {
    EXPECT_NE(std::find(TrialFilterFields().begin(), TrialFilterFields().end(), name),
              TrialFilterFields().end())
        << name;
  }
}

// FIELD:OP:VALUE needs no quoting in a shell and means what the symbols do.
TEST(ParseTrialConditionTest, ShellSafeWordOperators) {
  const ConditionCase cases[] = {
      {"depth:ge:3", "depth", Op::kGe, "3"},
      {"depth:gt:3", "depth", Op::kGt, "3"},
      {"depth:le:3", "depth", Op::kLe, "3"},
      {"depth:lt:3", "depth", Op::kLt, "3"},
      {"init:ne:standard", "init", Op::kNe, "standard"},
      {"activation:eq:tanh", "activation", Op::kEq, "tanh"},
      {"worker_id:eq:host-1:42", "worker_id", Op::kEq, "host-1:42"},
      {"final_validation_error:lt:0.1", "final_validation_error", Op::kLt, "0.1"},
  };
  for (const ConditionCase& c : cases) {
    auto condition = ParseTrialCondition(c.text);
    ASSERT_TRUE(condition.ok()) << c.text << ": " << condition.status();
    EXPECT_EQ(condition->field, c.field) << c.text;
    EXPECT_EQ(condition->op, c.op) << c.text;
    EXPECT_EQ(condition->value, c.value) << c.text;
    EXPECT_TRUE(LooksLikeTrialCondition(c.text)) << c.text;
  }
  EXPECT_FALSE(LooksLikeTrialCondition("glorot-quick"));
  EXPECT_FALSE(LooksLikeTrialCondition("run:2"));
  for (const BadCase& c :
       {BadCase{"depth:ge:", "no value"},
        BadCase{"depth:geq:3", "FIELD:OP:VALUE with OP one of eq ne lt le gt ge"},
        BadCase{"colour:eq:red", "unknown trial field 'colour'"}}) {
    auto condition = ParseTrialCondition(c.text);
    ASSERT_FALSE(condition.ok()) << c.text;
    EXPECT_NE(condition.status().message().find(c.mentions), std::string::npos)
        << c.text << " -> " << condition.status().message();
  }
}

}  // namespace
}  // namespace deepsweep::client
