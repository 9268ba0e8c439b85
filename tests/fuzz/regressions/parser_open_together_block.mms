process p
together
  p: mmap 4096
