using Microsoft.Extensions.Hosting;
using RegistryKit.Samples.WorkerService;

// A Generic Host worker that registers 'greeter' with the registry named by RegistryKit:Address (memory:// by
// default; run with `--environment Etcd` for etcd://127.0.0.1:2379), logs its health and the RegistryKit metrics
// every 10 s, and deregisters when stopped (Ctrl+C). See README.md beside this file.
await WorkerServiceHost.CreateBuilder(args).Build().RunAsync();
