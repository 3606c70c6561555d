#pragma once

// The real reader running one job of a synthetic acquisition (real files,
// the flat in shared memory), with stand-ins for the queue, the status hub,
// the exporter and the node registry: the base of tests that add real workers.

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/reader.hpp"
#include "tests/actors/fixture.hpp"
#include "tests/actors/synth_frames.hpp"

namespace seg::test {

struct reader_job_fixture : fixture {
  static constexpr std::uint64_t job = 1;
  synth_acquisition acq;
  std::shared_ptr<inbox> queue_box = std::make_shared<inbox>();
  std::shared_ptr<inbox> hub_box = std::make_shared<inbox>();
  std::shared_ptr<inbox> exporter_box = std::make_shared<inbox>();
  queue_actor queue = stand_in<queue_actor>(queue_box);
  status_hub_actor hub = stand_in<status_hub_actor>(hub_box);
  exporter_actor exporter = stand_in<exporter_actor>(exporter_box);
  std::shared_ptr<inbox> registry_box = std::make_shared<inbox>();
  node_registry_actor registry = stand_in<node_registry_actor>(registry_box);
  reader_actor reader;

  /// `frames` frames with `objects` objects each; one worker, no time limit;
  /// the job's settings overridden by `overrides` ("section.key=value").
  reader_job_fixture(int frames, int objects, std::vector<std::string> overrides = {})
    : acq(frames, objects) {
    reader_config cfg;
    cfg.workers = 1;
    cfg.exporter = exporter;
    cfg.frame_timeout_s = 0;
    cfg.registry = registry;
    reader = spawn(seg::reader, cfg, queue, hub);
    job_spec spec;
    spec.id = job;
    spec.path = acq.dir();
    spec.overrides = std::move(overrides);
    REQUIRE(ask<job_plan>(reader, atom::open::value, spec));
    send(reader, atom::run::value, job, frame_indices{}, std::string{});
    run();
  }

  /// What the exporter stand-in received: the frames' results.
  std::vector<frame_result> results() const {
    return exporter_box->of<frame_result>();
  }
};

} // namespace seg::test
