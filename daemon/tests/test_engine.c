/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdio.h>
int main(void) { return 0; }
