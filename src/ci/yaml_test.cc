#include "ci/yaml.h"

#include <gtest/gtest.h>

namespace villager::ci {
namespace {

TEST(YamlQuote, PlainWordsStayPlain) {
  EXPECT_EQ(yaml_quote("ubuntu-latest"), "ubuntu-latest");
  EXPECT_EQ(yaml_quote("actions/checkout@v4"), "actions/checkout@v4");
  EXPECT_EQ(yaml_quote("deploy to explorer"), "deploy to explorer");
}

TEST(YamlQuote, WordsAReaderWouldRetypeAreQuoted) {
  EXPECT_EQ(yaml_quote("on"), "'on'");
  EXPECT_EQ(yaml_quote("No"), "'No'");
  EXPECT_EQ(yaml_quote("true"), "'true'");
  EXPECT_EQ(yaml_quote("1.10"), "'1.10'");
  EXPECT_EQ(yaml_quote(""), "''");
  EXPECT_EQ(yaml_quote("-x"), "'-x'");
  EXPECT_EQ(yaml_quote(".5"), "'.5'");
  EXPECT_EQ(yaml_quote(".villager/artifacts"), ".villager/artifacts");
}

TEST(YamlQuote, IndicatorsAndExpressionsAreQuoted) {
  EXPECT_EQ(yaml_quote("v*"), "'v*'");
  EXPECT_EQ(yaml_quote("a: b"), "'a: b'");
  EXPECT_EQ(yaml_quote("x #y"), "'x #y'");
  EXPECT_EQ(yaml_quote("${{ secrets.KEY }}"), "'${{ secrets.KEY }}'");
  EXPECT_EQ(yaml_quote("it's"), "'it''s'");
  EXPECT_EQ(yaml_quote("two\nlines"), "\"two\\nlines\"");
}

TEST(Yaml, MapsListsAndBlocksPrintAsBlockStyle) {
  Yaml steps = Yaml::list();
  steps.add(Yaml::map().set("uses", "actions/checkout@v4"));
  steps.add(Yaml::map().set("name", "run").set("run", Yaml::block("echo one\n\necho two")));
  Yaml doc = Yaml::map().set("name", "ci").set("on", Yaml::map().set("push", Yaml::map()));
  doc.set("jobs", Yaml::map().set("a", Yaml::map().set("needs", Yaml::strings({"b"})).set("steps", steps)));
  EXPECT_EQ(doc.dump(),
            "name: ci\n"
            "'on':\n"
            "  push: {}\n"
            "jobs:\n"
            "  a:\n"
            "    needs:\n"
            "      - b\n"
            "    steps:\n"
            "      - uses: actions/checkout@v4\n"
            "      - name: run\n"
            "        run: |\n"
            "          echo one\n"
            "\n"
            "          echo two\n");
}

TEST(Yaml, RawScalarsArePrintedAsGiven) {
  EXPECT_EQ(Yaml::map().set("timeout-minutes", Yaml::raw("35")).set("clean", Yaml::raw("false")).dump(),
            "timeout-minutes: 35\nclean: false\n");
}

}  // namespace
}  // namespace villager::ci
