/* Stand-ins for libnvinfer and libnvonnxparser, built by the tests with
   gcc: the C entry points whose answers Open and OpenParser read.
   VERSION is getInferLibVersion's number; BUILD, when defined, adds
   the getInferLib*Version functions of 10.0 on; BUILDER adds
   createInferBuilder_INTERNAL; PARSER builds the parser instead, which
   needs the libnvinfer it is linked with. */
#ifdef PARSER
int getInferLibVersion(void);
int getNvOnnxParserVersion(void) { return getInferLibVersion() > 0 ? 100 : 0; }
void *createNvOnnxParser_INTERNAL(void *network, void *logger, int version) { return 0; }
#else
int getInferLibVersion(void) { return VERSION; }
#ifdef BUILD
int getInferLibMajorVersion(void) { return VERSION / 10000; }
int getInferLibMinorVersion(void) { return VERSION / 100 % 100; }
int getInferLibPatchVersion(void) { return VERSION % 100; }
int getInferLibBuildVersion(void) { return BUILD; }
#endif
#ifdef BUILDER
void *createInferBuilder_INTERNAL(void *logger, int version) { return 0; }
#endif
#ifdef NEEDS
int fake_cudart(void);
int uses_fake_cudart(void) { return fake_cudart(); }
#endif
#endif
