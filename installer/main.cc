#include "installer/app.h"

int main(int argc, char** argv) { return airlock::installer::run(argc, argv); }
