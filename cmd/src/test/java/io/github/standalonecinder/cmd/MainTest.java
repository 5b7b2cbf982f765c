package io.github.standalonecinder.cmd;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MainTest {
  @AfterEach
  void clear() {
    System.clearProperty(Main.COMMON_POOL_PARALLELISM);
  }

  @Test
  void withOneOrTwoCpusTheCommonPoolGetsTwoThreads() {
    System.clearProperty(Main.COMMON_POOL_PARALLELISM);
    Main.useCommonPoolForAsyncCompletions(1);
    assertThat(System.getProperty(Main.COMMON_POOL_PARALLELISM)).isEqualTo("2");
    System.clearProperty(Main.COMMON_POOL_PARALLELISM);
    Main.useCommonPoolForAsyncCompletions(2);
    assertThat(System.getProperty(Main.COMMON_POOL_PARALLELISM)).isEqualTo("2");
  }

  @Test
  void moreCpusOrTheUsersOwnSizeAreLeftAlone() {
    System.clearProperty(Main.COMMON_POOL_PARALLELISM);
    Main.useCommonPoolForAsyncCompletions(3);
    assertThat(System.getProperty(Main.COMMON_POOL_PARALLELISM)).isNull();
    System.setProperty(Main.COMMON_POOL_PARALLELISM, "7");
    Main.useCommonPoolForAsyncCompletions(1);
    assertThat(System.getProperty(Main.COMMON_POOL_PARALLELISM)).isEqualTo("7");
  }
}
