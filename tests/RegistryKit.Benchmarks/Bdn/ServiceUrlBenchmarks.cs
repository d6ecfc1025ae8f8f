using BenchmarkDotNet.Attributes;

namespace RegistryKit.Benchmarks.Bdn;

/// <summary>Parsing a provider URL as a registry stores it, and matching it against subscriptions.</summary>
[MemoryDiagnoser]
public class ServiceUrlBenchmarks
{
    private const string Provider =
        "tri://10.0.0.7:20880/com.example.Greeter?application=shop&category=providers&group=blue&version=1.2.0&methods=Hello,Bye&side=provider&timeout=3000&timestamp=1764530000000";

    private readonly ServiceUrl _provider = ServiceUrl.Parse(Provider);
    private readonly ServiceUrl _exact = ServiceUrl.Parse("consumer://10.0.0.9/com.example.Greeter?group=blue&version=1.2.0&category=providers");
    private readonly ServiceUrl _wildcard = ServiceUrl.Parse("consumer://10.0.0.9/*?group=*&version=*&category=providers");
    private readonly ServiceUrl _other = ServiceUrl.Parse("consumer://10.0.0.9/com.example.Other?category=providers");

    [Benchmark]
    public ServiceUrl Parse() => ServiceUrl.Parse(Provider);

    [Benchmark]
    public bool MatchExact() => _exact.Matches(_provider);

    [Benchmark]
    public bool MatchWildcard() => _wildcard.Matches(_provider);

    [Benchmark]
    public bool MatchOtherService() => _other.Matches(_provider);
}
