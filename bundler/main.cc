#include "bundler/app.h"

int main(int argc, char** argv) { return airlock::bundler::run(argc, argv); }
