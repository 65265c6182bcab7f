// A trivial POST /embed on cpp-httplib (Debian 0.11.4) on 127.0.0.1:18081, set up as
// src/serve/server.cpp (TCP_NODELAY, long keep-alive): the HTTP cost alone, beside
// beast_trivial.cpp. See run.sh.
#include <httplib.h>
int main() {
  httplib::Server s;
  s.new_task_queue = [] { return new httplib::ThreadPool(64); };
  s.set_tcp_nodelay(true);
  s.set_keep_alive_max_count(1000);
  s.Post("/embed", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content("[[0.5]]", "application/json");
  });
  s.listen("127.0.0.1", 18081);
}
