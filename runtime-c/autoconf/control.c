/* Asks nothing: compiles on every kernel, or the checks themselves are broken (see README). */
#include <linux/kernel.h>

int rs_check(int x);
int rs_check(int x)
{
	return x + 1;
}
