// Boost.Beast synchronous server, one thread per connection (Beast's http_server_sync example
// shape).
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <thread>
#include <utility>
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
void session(tcp::socket socket) {
  socket.set_option(tcp::no_delay(true));
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec) break;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = "[[0.5]]";
    res.prepare_payload();
    http::write(socket, res, ec);
    if (ec || !res.keep_alive()) break;
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
}
int main() {
  boost::asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc, {boost::asio::ip::make_address("127.0.0.1"), 18082}};
  for (;;) {
    tcp::socket s{ioc};
    acceptor.accept(s);
    std::thread(session, std::move(s)).detach();
  }
}
