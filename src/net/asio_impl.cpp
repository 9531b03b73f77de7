// The one translation unit that compiles Asio, Asio's SSL support and Beast. Every other file is
// built with BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION and only declares
// what it uses, which keeps the build fast.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
