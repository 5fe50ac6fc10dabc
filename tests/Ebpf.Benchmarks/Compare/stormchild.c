// SPDX-License-Identifier: MIT
/* stormchild.c - the exec storm's child: exits at once. Static, so that exec does not run a dynamic loader; its
 * name is what the consumers' rows are matched on. */
int main(void)
{
	return 0;
}
