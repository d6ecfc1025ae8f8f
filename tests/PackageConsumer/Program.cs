// The example in src/RegistryKit/README.md (the package's README), run against the packed packages.
using Microsoft.Extensions.DependencyInjection;
using RegistryKit;
using RegistryKit.InMemory;
using RegistryKit.Registry;

var services = new ServiceCollection();
services.AddRegistry(options => options.CacheEnabled = false).UseInMemory();
await using ServiceProvider container = services.BuildServiceProvider();

RegistryFactory factory = container.GetRequiredService<RegistryFactory>();
IRegistry registry = await factory.GetRegistryAsync();   // the configured address: memory://, the embedded registry
await registry.RegisterAsync(ServiceUrl.Parse("http://127.0.0.1:8080/greeter?version=1.0"));

var greeters = new Greeters();
await registry.SubscribeAsync(ServiceUrl.Parse("consumer://127.0.0.1/greeter?version=1.0"), greeters);
IReadOnlyList<ServiceUrl> seen = await greeters.First.Task.WaitAsync(TimeSpan.FromSeconds(30));

Console.WriteLine($"RegistryKit {typeof(ServiceUrl).Assembly.GetName().Version}: the consumer sees {string.Join(", ", seen)}");
return seen.Count == 1 && seen[0].Port == 8080 ? 0 : 1;

/// <summary>Receives the providers of 'greeter' each time they change.</summary>
internal sealed class Greeters : INotifyListener
{
    public TaskCompletionSource<IReadOnlyList<ServiceUrl>> First { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ValueTask NotifyAsync(IReadOnlyList<ServiceUrl> urls, CancellationToken cancellationToken)
    {
        if (urls.Any(url => !url.IsEmptyMarker))
        {
            First.TrySetResult(urls);
        }

        return ValueTask.CompletedTask;
    }
}
