using RegistryKit.Timers;

namespace RegistryKit.Tests.Timers;

public class TickDivisorTests
{
    [Test]
    public void Divide_AgreesWithTheDivisionOperator_AcrossTicksAndNumerators(
        [Values(2L, 3L, 7L, 10_000L, 70_000L, 100_000L, 1_000_000L, 1L << 20, (1L << 20) + 1, 36_000_000_000L, long.MaxValue / 4)] long divisor)
    {
        var perTick = new TickDivisor(divisor);
        var random = new Random(unchecked((int)divisor));
        var numerators = new List<long> { 0, 1, divisor - 1, divisor, divisor + 1, long.MaxValue, long.MaxValue - 1, -1, -divisor, long.MinValue };
        for (long k = 1; k < 64; k++)
        {
            // Around multiples of the divisor, where an estimate would be off by one.
            long multiple = divisor * k;
            if (multiple / k == divisor)
            {
                numerators.AddRange([multiple - 1, multiple, multiple + 1]);
            }

            numerators.Add(long.MaxValue >> (int)k);
        }

        for (int i = 0; i < 20_000; i++)
        {
            numerators.Add(random.NextInt64(0, long.MaxValue));
            numerators.Add(random.NextInt64(0, divisor * 100_000 > 0 ? divisor * 100_000 : long.MaxValue));
        }

        foreach (long numerator in numerators)
        {
            long expected = numerator / divisor;
            long actual = perTick.Divide(numerator);
            if (actual != expected)
            {
                Assert.Fail($"{numerator} / {divisor}: expected {expected}, got {actual}");
            }
        }
    }

    [Test]
    public void Constructor_DivisorBelowTwo_Throws([Values(1L, 0L, -10_000L)] long divisor)
    {
        Assert.That(() => new TickDivisor(divisor), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("divisor"));
    }
}
