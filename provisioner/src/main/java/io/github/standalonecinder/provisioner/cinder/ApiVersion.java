package io.github.standalonecinder.provisioner.cinder;

/**
 * The Cinder API in use.
 *
 * @param major            2 or 3
 * @param minMicroversion  lowest microversion the server offers ("3.0"), null on v2
 * @param maxMicroversion  highest microversion the server offers ("3.70"), null on v2
 * @param usedMicroversion the microversion we send in {@code OpenStack-API-Version: volume X.Y}, null on v2
 * @param endpoint         the block-storage endpoint URL in use
 */
public record ApiVersion(int major, Microversion minMicroversion, Microversion maxMicroversion,
    Microversion usedMicroversion, String endpoint) {

  /** Whether requests may use {@code microversion}: v3 and the server's maximum is at least that. */
  public boolean supports(Microversion microversion) {
    return major >= 3 && maxMicroversion != null && maxMicroversion.compareTo(microversion) >= 0;
  }
}
