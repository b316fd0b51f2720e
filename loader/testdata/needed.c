/* Fixtures for PreloadNeeded, built by the loader's tests: a chain of
   libraries that need one another by soname, with no RPATH. LEVEL picks
   which one this build is. */
#if LEVEL == 0
int needed_base(void) { return 7; }
#elif LEVEL == 1
int needed_base(void);
int needed_middle(void) { return needed_base() * 6; }
#else
int needed_middle(void);
int needed_top(void) { return needed_middle(); }
#endif
