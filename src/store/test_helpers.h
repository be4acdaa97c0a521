#pragma once
// Helpers shared by the store's tests (not part of the library's interface).

#include <gtest/gtest.h>

#include <memory>

#include "store/store.h"
#include "testutil/fake_clock.h"
#include "testutil/temp_dir.h"

namespace villager::store::testing {

// A fresh store in a temp dir, on a FakeClock.
struct TestStore {
  TempDir dir;
  FakeClock clock;
  std::unique_ptr<Store> store;

  TestStore() { reopen(); }
  void reopen() {
    store.reset();
    auto s = Store::open(dir.path() / "state", OpenOptions{&clock, true});
    if (!s)
      ADD_FAILURE() << s.error().message;
    else
      store = std::move(*s);
  }
  Store& operator*() { return *store; }
  Store* operator->() { return store.get(); }
};

inline std::string digest_of(char c) {
  return "sha256:" + std::string(64, c);
}

}  // namespace villager::store::testing
