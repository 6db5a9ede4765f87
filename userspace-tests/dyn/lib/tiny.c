/* The program behind the bad-interpreter tests (built naming an
 * interpreter that is missing or not ELF): it never runs. */
int main(void)
{
	return 0;
}
