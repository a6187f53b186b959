#include "tap.h"
int main(void){plan(1);ok(1,"x");return done_testing();}
