#include "store/db.h"

#include <gtest/gtest.h>

#include "testutil/temp_dir.h"

namespace villager::store {
namespace {

Db open_db(const TempDir& dir) {
  auto db = Db::open(dir / "t.db", true);
  EXPECT_TRUE(db.has_value());
  EXPECT_TRUE(db->exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT, n INTEGER)").ok());
  return std::move(*db);
}

int64_t count(Db& db) {
  return db.query_int("SELECT count(*) FROM t").value_or(-1);
}

TEST(Db, BindStepAndColumnsRoundTrip) {
  TempDir dir;
  Db db = open_db(dir);
  auto ins = db.prepare("INSERT INTO t (k, v, n) VALUES (?, ?, ?)");
  ASSERT_TRUE(ins);
  ins->bind(1, int64_t{7}).bind(2, std::string("a\0b", 3)).bind(3, std::nullopt);
  ASSERT_TRUE(ins->run().ok());
  auto sel = db.prepare("SELECT k, v, n FROM t");
  ASSERT_TRUE(sel);
  ASSERT_TRUE(sel->step().value_or(false));
  EXPECT_EQ(sel->column_int(0), 7);
  EXPECT_EQ(sel->column_text(1), std::string("a\0b", 3));
  EXPECT_FALSE(sel->column_optional_int(2).has_value());
  EXPECT_FALSE(sel->step().value_or(true));
}

TEST(Db, ErrorsNameTheStatement) {
  TempDir dir;
  Db db = open_db(dir);
  auto bad = db.prepare("SELECT nope FROM t");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("SELECT nope FROM t"), std::string::npos) << bad.error().message;
  ASSERT_TRUE(db.exec("INSERT INTO t (k) VALUES (1)").ok());
  Status dup = db.exec("INSERT INTO t (k) VALUES (1)");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Code::kConflict);
  EXPECT_NE(dup.error().message.find("UNIQUE"), std::string::npos) << dup.error().message;
}

TEST(Db, BindErrorIsReportedByStep) {
  TempDir dir;
  Db db = open_db(dir);
  auto st = db.prepare("SELECT ?");
  ASSERT_TRUE(st);
  st->bind(5, int64_t{1});  // out of range
  auto r = st->step();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("binding"), std::string::npos) << r.error().message;
}

TEST(Transaction, RollsBackWhenNotCommitted) {
  TempDir dir;
  Db db = open_db(dir);
  {
    auto tx = Transaction::begin(db);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db.exec("INSERT INTO t (k) VALUES (1)").ok());
  }
  EXPECT_FALSE(db.in_transaction());
  EXPECT_EQ(count(db), 0);
  {
    auto tx = Transaction::begin(db);
    ASSERT_TRUE(db.exec("INSERT INTO t (k) VALUES (2)").ok());
    ASSERT_TRUE(tx->commit().ok());
  }
  EXPECT_EQ(count(db), 1);
}

TEST(Transaction, NestedBecomesSavepoint) {
  TempDir dir;
  Db db = open_db(dir);
  auto outer = Transaction::begin(db);
  ASSERT_TRUE(outer);
  ASSERT_TRUE(db.exec("INSERT INTO t (k) VALUES (1)").ok());
  {
    auto inner = Transaction::begin(db);
    ASSERT_TRUE(inner);
    ASSERT_TRUE(db.exec("INSERT INTO t (k) VALUES (2)").ok());
  }  // inner rolled back, outer still open
  EXPECT_TRUE(db.in_transaction());
  {
    auto inner = Transaction::begin(db);
    ASSERT_TRUE(db.exec("INSERT INTO t (k) VALUES (3)").ok());
    ASSERT_TRUE(inner->commit().ok());
  }
  ASSERT_TRUE(outer->commit().ok());
  EXPECT_EQ(db.query_int("SELECT group_concat(k) = '1,3' FROM (SELECT k FROM t ORDER BY k)").value_or(0), 1);
}

}  // namespace
}  // namespace villager::store
