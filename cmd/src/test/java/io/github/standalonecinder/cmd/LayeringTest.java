package io.github.standalonecinder.cmd;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The dependency directions of the build (root pom), on this module's compiled main classes: cmd -> simulator is
 * for the {@code demo} and {@code simulator} commands only; {@code run} and {@code check} never touch it.
 */
@AnalyzeClasses(packages = "io.github.standalonecinder.cmd", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {
  @ArchTest
  static final ArchRule onlyDemoAndSimulatorUseTheSimulator = noClasses()
      .that().haveNameNotMatching("io\\.github\\.standalonecinder\\.cmd\\.(DemoCommand|SimulatorCommand)(\\$.*)?")
      .should().dependOnClassesThat().resideInAPackage("io.github.standalonecinder.simulator..")
      .as("only DemoCommand and SimulatorCommand depend on the simulator")
      .because("run and check are the product; the simulator stands in for Cinder in demo and by hand");
}
