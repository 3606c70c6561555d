// The MQTT protocol's text in and out (actors/io/mqtt_protocol.hpp): the
// dashboard's request shapes, the reference's status texts read by the
// dashboard's rules, per-object messages and segflow's commands.
#include "actors/io/mqtt_protocol.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>


namespace mqtt = seg::io::mqtt;
using kind = mqtt::dashboard_view::kind;

TEST_CASE("the dashboard's segment payload", "[mqtt]") {
  auto r = mqtt::parse_request(
    R"({"action":"segment","path":["/home/pi/data/img/2025-11-19/S_1/A_2"],)"
    R"("settings":{"force":false,"recursive":true,"ecotaxa":true,"keep":true,)"
    R"("process_id":1,"process_min_ESD":20},"dataset":{"project_name":"p"}})");
  REQUIRE(r.kind == mqtt::action::segment);
  REQUIRE(r.paths.size() == 1);
  CHECK(r.paths[0] == "/home/pi/data/img/2025-11-19/S_1/A_2");
  CHECK(r.settings.process_id == std::optional<std::string>("1"));
  CHECK(r.settings.min_esd == 20);
  CHECK(mqtt::job_overrides(r.settings)
        == std::vector<std::string>{"export.ecotaxa=true", "segmentation.min_esd=20",
                                    "segmentation.remove_previous_mask=false",
                                    "export.process_id=1"});
}

TEST_CASE("request shapes the reference mishandles", "[mqtt]") {
  // A string path is one folder (the reference walks its characters).
  auto s = mqtt::parse_request(R"({"action":"segment","path":"/d/img/a"})");
  REQUIRE(s.paths == std::vector<std::filesystem::path>{"/d/img/a"});
  // No settings: the defaults (the reference silently does nothing).
  CHECK(s.settings.recursive);
  CHECK(s.settings.ecotaxa);
  CHECK_FALSE(s.settings.force);
  CHECK(s.settings.min_esd == 20);
  CHECK_FALSE(s.settings.process_id);
  // No path: the whole img/ tree.
  CHECK(mqtt::parse_request(R"({"action":"segment"})").paths.empty());
  CHECK(mqtt::parse_request(R"({"action":"stop"})").kind == mqtt::action::stop);
  CHECK(mqtt::parse_request(R"({"action":"update_config","config":{}})").kind
        == mqtt::action::update_config);
  CHECK(mqtt::parse_request(R"({"action":"dance"})").kind == mqtt::action::unknown);
  CHECK(mqtt::parse_request(R"({"hello":1})").kind == mqtt::action::none);
}

TEST_CASE("bad requests name the problem", "[mqtt]") {
  CHECK_THROWS_WITH(mqtt::parse_request("{\"action\":"), Catch::Contains("invalid JSON"));
  CHECK_THROWS_WITH(mqtt::parse_request("[1]"), Catch::Contains("not a JSON object"));
  CHECK_THROWS_WITH(mqtt::parse_request(R"({"action":"segment","path":[1]})"),
                    Catch::Contains("path"));
  CHECK_THROWS_WITH(
    mqtt::parse_request(R"({"action":"segment","settings":{"force":"yes"}})"),
    Catch::Contains("settings.force"));
  CHECK_THROWS_WITH(
    mqtt::parse_request(R"({"action":"segment","settings":{"process_min_ESD":"x"}})"),
    Catch::Contains("process_min_ESD"));
  CHECK_THROWS_WITH(mqtt::checked_request_path("/home/pi/data/objects/a"),
                    Catch::Contains("not inside an img/ folder"));
  CHECK_THROWS_WITH(mqtt::checked_request_path("data/img/a"),
                    Catch::Contains("not absolute"));
  CHECK(mqtt::checked_request_path("/d/img/x/../a/") == "/d/img/a");
  CHECK(mqtt::checked_request_path("/d/img") == "/d/img");
}

TEST_CASE("statuses as the dashboard reads them", "[mqtt]") {
  for (auto* text : {"Ready", "Started", "Calculating flat", "Interrupted", "Busy", "Dead"}) {
    auto v = mqtt::dashboard_parse(mqtt::status_json(text));
    CHECK(v.what == kind::info);
    CHECK(v.status == text);
  }
  CHECK(mqtt::dashboard_parse(mqtt::status_json("Done")).what == kind::finished);

  auto progress =
    mqtt::status_json("Segmenting image 2024-03-12_03-19-56-105220.jpg, image 5/12");
  auto v = mqtt::dashboard_parse(progress);
  CHECK(v.what == kind::progress);
  CHECK(v.image == "2024-03-12_03-19-56-105220.jpg");
  CHECK(v.index == 5);
  CHECK(v.total == 12);
  // A reason with quotes stays valid JSON; its trailing '.' is not doubled.
  auto failed = mqtt::status_json(mqtt::exception_text("metadata.json: \"acq_id\" missing."));
  auto e = mqtt::dashboard_parse(failed);
  CHECK(e.what == kind::error);
  CHECK(e.status
        == "An exception was raised during the segmentation: metadata.json: \"acq_id\" "
           "missing.");
  CHECK_THROWS(mqtt::dashboard_parse("not json"));
}

TEST_CASE("per-object messages", "[mqtt]") {
  seg::io::frame_record rec;
  rec.frame = "f.jpg";
  for (int i = 0; i < 2; ++i) {
    seg::io::frame_object o;
    o.index = i;
    o.crop_file = "f_" + std::to_string(i) + ".jpg";
    o.features.width = 10 + i;
    o.features.area = 55.5;
    rec.objects.push_back(o);
  }
  auto msgs = mqtt::object_messages(rec, 7);
  REQUIRE(msgs.size() == 4);
  CHECK(msgs[0] == std::pair<std::string, std::string>{mqtt::object_id_topic,
                                                       R"({"object_id":"7"})"});
  CHECK(msgs[1].first == mqtt::metric_topic);
  auto m = nlohmann::json::parse(msgs[3].second);
  CHECK(m["name"] == "f_1");
  CHECK(m["metadata"]["label"] == 8);
  CHECK(m["metadata"]["width"] == 11);
  CHECK(m["metadata"]["area"] == 55.5);
  CHECK(m["metadata"].contains("circ."));
  CHECK(m["metadata"].contains("MeanHue"));
  CHECK(*mqtt::frame_record_path("/d/img/20250101/s/a", "x.jpg")
        == "/d/objects/20250101/s/a/.segflow/frames/x.jsonl");
  CHECK_FALSE(mqtt::frame_record_path("/d/other/a", "x.jpg"));
}

TEST_CASE("segflow's queue commands", "[mqtt]") {
  auto c = mqtt::parse_command(R"({"command":"move","id":3,"to":1,"request_id":"r"})");
  CHECK(c.name == "move");
  CHECK(c.id == 3);
  CHECK(c.to == 1);
  CHECK(mqtt::command_reply(c, nlohmann::ordered_json{{"paused", false}})
        == R"({"request_id":"r","command":"move","ok":true,"result":{"paused":false}})");
  CHECK(mqtt::command_error(c, "job 3 is not pending")
        == R"({"request_id":"r","command":"move","ok":false,"error":"job 3 is not pending"})");
  CHECK(mqtt::command_error(c, "no job 9", "unknown_job")
        == R"({"request_id":"r","command":"move","ok":false,"error":"no job 9",)"
           R"("code":"unknown_job"})");
  CHECK_THROWS_WITH(mqtt::parse_command(R"({"command":"stop"})"), Catch::Contains("\"id\""));
  CHECK_THROWS_WITH(mqtt::parse_command(R"({"command":"fly"})"),
                    Catch::Contains("unknown segflow command"));
  CHECK_THROWS_WITH(mqtt::parse_command(R"({"command":"add"})"), Catch::Contains("path"));
  CHECK(mqtt::parse_command(R"({"command":"list"})").request_id_json == "null");
}

TEST_CASE("the imager's statuses and follow requests", "[mqtt]") {
  auto done = mqtt::parse_imager_status(R"({"status":"Done","path":"/d/img/a"})");
  REQUIRE(done);
  CHECK(done->status == "Done");
  CHECK(done->path == "/d/img/a");
  auto progress =
    mqtt::parse_imager_status(R"({"type":"progress","path":"/d/img/a/f.jpg","current":1})");
  REQUIRE(progress);
  CHECK(progress->status.empty());
  CHECK(progress->path == "/d/img/a/f.jpg");
  CHECK_FALSE(mqtt::parse_imager_status("Image 1/3 saved"));
  auto r = mqtt::parse_request(R"({"action":"segment","path":["/d/img/a"],"follow":true})");
  CHECK(r.follow);
  CHECK(mqtt::job_overrides(r.settings, r.follow).back() == "pipeline.follow=true");
  CHECK_THROWS_WITH(mqtt::parse_request(R"({"action":"segment","follow":1})"),
                    Catch::Contains("follow"));
}
