// A job run's leases cover more than its acquisition: its output folder and
// its archive path, taken sorted and all or nothing. Two acquisitions whose
// archives collide (one acq_id) can never both hold: a job whose archive
// another process holds waits and then refuses, naming it; in one queue the
// next job waits for the running one's keys instead of failing.
#include "actors/io/export_lock.hpp"
#include "actors/io/job_plan.hpp"
#include "actors/io/lease_file.hpp"
#include "actors/io/output_layout.hpp"
#include "tests/actors/queue_fixture.hpp"

using namespace seg;
using namespace seg::test::queue_fx;
using namespace std::chrono_literals;

namespace {

job_plan plan_of(const std::string& folder) {
  job_spec spec;
  spec.id = 1;
  spec.path = folder;
  return resolve_job(spec, {}).plan;
}

} // namespace

TEST_CASE("a job leases its acquisition, output folder and archive: a colliding "
          "archive is refused",
          "[actor][queue]") {
  fixture fx;
  auto a = make_acquisition(fx.root.path, "a", 8, "shared");
  auto b = make_acquisition(fx.root.path, "b", 8, "shared");
  auto plan_a = plan_of(a);
  auto plan_b = plan_of(b);
  auto keys_a = io::job_keys(plan_a, io::output_layout(plan_a));
  auto keys_b = io::job_keys(plan_b, io::output_layout(plan_b));
  REQUIRE(keys_a.size() == 3);
  REQUIRE(keys_b.size() == 3);
  CHECK(std::is_sorted(keys_a.begin(), keys_a.end()));
  // Different acquisitions and output folders, one archive.
  std::vector<std::string> shared;
  std::set_intersection(keys_a.begin(), keys_a.end(), keys_b.begin(), keys_b.end(),
                        std::back_inserter(shared));
  REQUIRE(shared.size() == 1);
  auto zip = io::output_layout(plan_a).zip_file();
  CHECK(shared[0] == (fs::canonical(zip.parent_path()) / zip.filename()).string());

  // Another process's run of `a` holds its keys (as a lock manager of its own).
  seg::test::fixture& base = fx; // its ask, not the queue fixture's
  auto other = spawn_lock_manager(fx.sys, lock_manager_config{});
  REQUIRE(other);
  auto held = base.ask<std::vector<lease>>(*other, atom::acquire::value, keys_a);
  REQUIRE(held);
  REQUIRE(held->size() == 3);

  fx.start_paused();
  fx.add({b});
  fx.ask<queue_listing>(atom::resume::value);
  // Refused, retried with backoff, then failed: nothing of b was taken.
  for (int i = 0; i < 10 && state_of(fx.status(1)) != job_state::failed; ++i)
    fx.advance(2s);
  auto refused = fx.status(1);
  REQUIRE(state_of(refused) == job_state::failed);
  INFO(refused.summary.error);
  CHECK(refused.summary.error.find(shared[0]) != std::string::npos);
  CHECK(refused.summary.error.find("is being segmented by pid") != std::string::npos);
  for (auto& k : keys_b)
    if (k != shared[0])
      CHECK_FALSE(io::read_lease(k));
  CHECK_FALSE(fs::exists(io::output_layout(plan_b).zip_file()));

  // Once a's run lets go, b runs, holding all three while it runs and none after.
  for (auto& l : *held)
    CHECK(*base.ask<bool>(*other, atom::release::value, l));
  fx.add({b});
  fx.wait_idle();
  CHECK(state_of(fx.status(2)) == job_state::done);
  CHECK(fs::exists(io::output_layout(plan_b).zip_file()));
  for (auto& k : keys_b)
    CHECK_FALSE(io::read_lease(k));
  caf::anon_send_exit(*other, caf::exit_reason::user_shutdown);
  fx.run();
}

TEST_CASE("in one queue, the next job waits for the keys the running one holds",
          "[actor][queue]") {
  fixture fx;
  auto a = make_acquisition(fx.root.path, "a", 8, "shared");
  auto b = make_acquisition(fx.root.path, "b", 8, "shared");
  fx.start_paused();
  fx.add({a, b});
  fx.ask<queue_listing>(atom::resume::value);
  fx.wait_idle();
  // Neither failed on the other's lease (the next job is prepared while the
  // running one's last frames are in flight, and waits for its keys).
  CHECK(state_of(fx.status(1)) == job_state::done);
  CHECK(state_of(fx.status(2)) == job_state::done);
  CHECK(fx.status(2).summary.frames_done == 8);
}
