#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "net/ip_address.hpp"

namespace provgate::http {

// A socket peer's address, typed once: an IPv4-mapped IPv6 peer (a dual-stack socket's IPv4
// client) is its IPv4 address, so bans, allowlists and audit records see one spelling.
inline net::IpAddress PeerAddress(const boost::asio::ip::tcp::endpoint& peer) {
  const auto address = peer.address();
  if (address.is_v4()) return net::IpAddress::V4(address.to_v4().to_bytes());
  return net::IpAddress::V6(address.to_v6().to_bytes());
}

}  // namespace provgate::http
