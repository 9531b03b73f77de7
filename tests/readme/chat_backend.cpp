// tests/readme/chat_backend.cpp: the README's chat backend (view.cpp, exactly as the README shows
// it) as a program, so tests can run it as a deployment would: configured by its environment only
// (PORT, APIGW_SECRET, the AWS credentials chain's variables and files), stopped by SIGTERM.
namespace readme {
int run_chat_backend();
}

int main() {
  return readme::run_chat_backend();
}
