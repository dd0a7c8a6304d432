// What the stand-in libnvinfer (standin_nvinfer.cc) recorded.
#pragma once

#include <string>
#include <vector>

namespace standin {

struct Registration {
  void* creator;  // IPluginCreator* (generation 2) or IPluginCreatorInterface* (3)
  std::string name, version, ns;  // ns: the namespace argument of registerCreator
  int generation;
};

std::vector<Registration>& registrations();  // what the registry holds now
std::vector<std::string>& messages();        // every log message, "E ..." or "W ..."
std::vector<std::string>& refusals();        // registrations refused as duplicates

}  // namespace standin
