// The one Catch2 main of every test binary; kept alone because it compiles slowly.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
