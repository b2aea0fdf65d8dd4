/**
 * Common given names across many countries, written for this project from general knowledge of
 * census-style name frequency lists (public-domain facts; no third-party file was copied).
 * Space-separated, lower case; diacritics are folded at load time.
 */
export const GIVEN_NAMES = `
james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony mark
donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan jacob gary
nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander frank patrick raymond
jack dennis jerry tyler aaron jose adam nathan henry douglas zachary peter kyle ethan walter noah jeremy christian
keith roger terry gerald harold sean austin carl arthur lawrence dylan jesse jordan bryan billy joe bruce gabriel
logan albert willie alan juan wayne elijah randy roy vincent ralph eugene russell bobby mason philip louis harry
howard fred victor martin ernest phillip todd craig shawn clarence earl jimmy antonio danny bryan tony luis mike
stanley leonard nathaniel dale manuel rodney curtis norman allen marvin vernon glenn jeffery travis jeff chad
jacqueline lee melvin alfred kirk francis bradley jesus herbert frederick ray joel edwin don eddie ricky troy
randall barry alexis bernard mario leroy francisco marcus micheal theodore clifford miguel oscar jay jim tom
calvin alex jon ronnie bill lloyd tommy leon derek warren darrell jerome floyd leo alvin tim wesley gordon dean
greg jorge dustin pedro derrick dan lewis zachary corey herman maurice vernon roberto clyde glen hector shane
ricardo sam rick lester brent ramon charlie tyrone gilbert gene marc reginald ruben brett angel nathaniel rafael
leslie edgar milton raul ben chester cecil duane franklin andre elmer brad gabriel ron mitchell roland arnold
harvey jared adrian karl cory claude erik darryl jamie neil jessie christian javier fernando clinton ted mathew
tyrone darren lonnie lance cody julio kelly kurt allan nelson guy clayton hugh max dwayne dwight armando felix
jimmie everett jordan ian wallace ken bob jaime casey alfredo alberto dave ivan johnnie sidney byron julian isaac
morris clifton willard daryl ross virgil andy marshall salvador perry kirk sergio marion tracy seth kent terrance
rene eduardo terrence enrique freddie wade liam oliver lucas elias caleb owen luke isaiah hunter connor carter
jayden wyatt grayson levi mateo sebastian jaxon josiah hudson lincoln easton colton cameron landon evan miles
everett axel declan silas gavin maxwell ezra theo jasper rowan finn harrison kai eli brody beau emmett archer
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen nancy lisa betty margaret sandra ashley
kimberly emily donna michelle dorothy carol amanda melissa deborah stephanie rebecca sharon laura cynthia kathleen
amy shirley angela helen anna brenda pamela nicole emma samantha katherine christine debra rachel catherine carolyn
janet ruth maria heather diane virginia julie joyce victoria olivia kelly christina lauren joan evelyn judith megan
cheryl andrea hannah martha jacqueline frances gloria ann teresa kathryn sara janice jean alice madison doris
abigail julia judy grace denise amber marilyn beverly danielle theresa sophia marie diana brittany natalie isabella
charlotte rose alexis kayla lori tiffany jane kathy tammy crystal irene marjorie lillian sylvia florence vanessa
edna joanne ellen jill gail rita stacy erin kristen kristin tracy lois dana wanda phyllis norma paula annie
leah jenny bonnie ruby erica josephine rosa tina veronica holly sherry clara valerie shannon monica lucy kristina
mildred dawn april carla connie peggy kim tara lydia vera bernice tanya katie lena alma darlene elaine ethel
amelia ava mia harper ella aria chloe camila penelope riley layla lillian nora zoey mila aubrey hazel violet aurora
savannah audrey brooklyn bella claire skylar lucy paisley everly anna caroline nova genesis emilia kennedy maya
willow kinsley naomi aaliyah elena ariana allison gabriella alice madelyn cora ruby eva serenity autumn adeline
hailey gianna valentina isla eliana quinn nevaeh ivy sadie piper lydia alexa josephine emery julia delilah arianna
vivian kaylee sophie brielle madeline peyton rylee clara hadley melanie mackenzie reagan adalynn liliana aubree
jade katherine isabelle natalia raelynn maria athena ximena arya leilani taylor faith rose kylie alexandra mary
margaret lyla ashley amaya eliza brianna bailey andrea khloe jasmine melody iris isabel norah annabelle valeria
emerson adalyn ryleigh eden emersyn anastasia kayla alyssa juliana charlie esther ariel cecilia valerie alina molly
reese aliyah lilly parker finley morgan sydney jordyn eloise trinity daisy kimberly lauren genevieve sara arabella
harmony elise remi teagan alexis london sloane laila lucia diana juliette sienna elliana londyn ayla callie gracie
josie amara jocelyn daniela everleigh mya rachel summer alana brooke alaina mckenzie catherine amy presley journee
rosalie ember brynlee rowan joanna paige rebecca ana sawyer mariah nicole brooklynn payton marley fiona georgia
lila harley adelyn alivia noelle gemma vanessa journey makayla angelina adaline catalina alayna julianna leila
lola adriana june juliet jayla river tessa lia dakota delaney selena blakely ada camille zara malia hope samantha
jennifer jade brittany kelsey chelsea courtney megan heather amber melissa stephanie tiffany crystal erin danielle
hans peter klaus jurgen juergen wolfgang dieter gunter guenter horst helmut manfred werner gerhard uwe rainer frank
bernd thomas michael andreas stefan markus christian sebastian tobias florian lukas leon felix jonas maximilian
paul elias finn noah ben luis moritz niklas jan tim tom philipp julian fabian dominik patrick sven jens torsten
kai lars nils ole hauke jannik malte till lennart mats henrik fritz otto karl heinz kurt walter ernst hermann
friedrich wilhelm ludwig rudolf gustav emil anton franz josef johann georg jakob matthias martin bernhard hubert
ursula ingrid helga gisela renate monika karin brigitte petra sabine andrea claudia susanne nicole stefanie julia
katrin anja tanja simone birgit heike kerstin silke anke doris elke gabriele christa hildegard erika gertrud
lena leonie lea laura sophie marie mia hannah emma lina johanna clara charlotte greta frieda ida paula mathilda
luise anna amelie annika jana jasmin lisa vanessa nina franziska carina janina melanie theresa viktoria svenja
jean pierre michel philippe alain patrick nicolas christophe daniel bernard eric frederic laurent stephane olivier
thierry pascal sebastien julien guillaume jerome francois vincent nicolas antoine maxime alexandre romain thomas
hugo louis gabriel arthur raphael jules adam lucas leo nathan ethan mathis theo baptiste clement quentin mathieu
benoit didier gilles yves rene serge jacques andre claude marcel roger henri gerard georges lucien emile gaston
marie nathalie isabelle sylvie catherine francoise martine christine monique valerie sandrine veronique nicole
sophie celine stephanie aurelie julie camille manon chloe lea emma ines jade louise alice lina rose anna mila
zoe juliette lucie margaux pauline oceane laura marine amandine elodie melanie charlotte clemence mathilde
giulia juliette brigitte genevieve josephine madeleine simone yvette jeanne suzanne denise odette colette
giuseppe giovanni antonio mario luigi francesco angelo vincenzo pietro salvatore carlo franco domenico bruno paolo
michele giorgio aldo sergio luciano roberto stefano andrea marco alessandro luca matteo lorenzo leonardo
riccardo davide simone federico gabriele tommaso edoardo filippo emanuele daniele fabio massimo maurizio
enrico claudio alberto gianluca gianni nicola raffaele rocco sandro silvio ugo umberto vittorio dario cesare
maria anna giuseppina rosa angela giovanna teresa lucia carmela caterina francesca chiara giulia sofia aurora
alessia martina giorgia sara beatrice elena valentina federica silvia paola laura simona elisa roberta
alessandra cristina daniela barbara monica patrizia antonella rita serena ilaria irene gaia greta noemi
rossella luisa gabriella grazia lorenza marta marisa nadia ornella pina raffaella sabrina tiziana vittoria
jose antonio manuel francisco juan david javier daniel carlos jesus alejandro miguel rafael pablo pedro angel
sergio fernando jorge luis alberto alvaro adrian diego raul ivan ruben enrique oscar andres ramon vicente
joaquin santiago ignacio emilio jaime mario marcos victor hugo gonzalo rodrigo tomas mateo nicolas sebastian
martin lucas leonardo gabriel samuel benjamin felipe cristian eduardo esteban hector julio ricardo roberto
guillermo gustavo alfonso agustin arturo ernesto gerardo horacio lorenzo mauricio octavio orlando rogelio
maria carmen josefa isabel ana dolores pilar teresa rosa francisca antonia mercedes lucia laura cristina marta
elena paula raquel sara andrea silvia patricia rocio beatriz julia irene alba claudia lorena natalia monica
sofia valentina camila isabella ximena mariana daniela gabriela valeria luciana victoria martina catalina
fernanda florencia agustina antonella guadalupe juana margarita esperanza consuelo alejandra veronica adriana
joao jose antonio francisco carlos paulo pedro lucas luiz marcos luis gabriel rafael daniel marcelo bruno
eduardo felipe raimundo rodrigo manoel mateus matheus andre fernando fabio leonardo gustavo guilherme leandro
tiago thiago diogo vinicius caio renato sergio ricardo henrique igor joaquim davi arthur heitor bernardo
enzo miguel samuel vitor victor otavio murilo caua breno nuno rui vasco goncalo duarte afonso tomas
maria ana francisca antonia adriana juliana marcia fernanda patricia aline sandra camila amanda bruna jessica
leticia julia luciana vanessa mariana gabriela beatriz larissa rafaela vitoria isabela manuela helena alice
laura valentina sophia heloisa lorena livia yasmin giovanna luiza eduarda clara cecilia rita ines leonor
joana carolina catarina sofia matilde mafalda teresa filipa raquel graca conceicao fatima
jan piet kees henk johannes cornelis willem hendrik gerrit jacobus pieter dirk bram daan sem lars thijs
ruben jesse stijn bas joost maarten niels sander tim wouter koen jeroen arjan erik marco mark rik luuk
anouk sanne lotte femke eva fleur iris lieke maud noor roos sophie tess isa julia lisa anne sara
ingrid johanna cornelia wilhelmina hendrika petronella geertruida maria elisabeth
lars anders erik per karl nils jan hans olof lennart bengt goran gunnar sven johan peter mikael stefan
magnus fredrik daniel henrik mattias andreas jonas oskar viktor axel gustav emil hugo isak elias william
liam lucas oliver alexander filip anton leo ludvig noah adam theo vincent arvid einar ragnar bjorn leif
birger torbjorn ulf ake rune kjell stig tore arne odd knut trond geir terje svein rolf harald olav
jorgen morten rasmus mads soren christian thomas jesper kasper mathias frederik emil magnus mikkel
anna maria margareta elisabeth eva kristina birgitta karin marie ingrid christina linnea sara emma
elin ida hanna johanna maja ebba alva wilma alice astrid freja ella saga klara signe tilde agnes vera
lena lisa malin sofia jenny camilla cecilia frida linda helena annika ulla inger gunilla britt kerstin
solveig sigrid ragnhild liv kari randi hilde nina silje marit tone turid anne grete berit bente mette
lise hanne pia susanne tina dorthe lone jette kirsten rikke trine mia laura nanna freya mathilde
mikko juha timo matti kari jari antti jukka pekka markku hannu heikki janne ville tuomas sami petri
mika ari jani tero veli esa lauri joonas eetu aleksi onni eino vaino toivo aarne oiva pentti seppo
tapio kalevi risto raimo erkki ilkka jouko kimmo olli teemu niko jussi arto harri
maria helena johanna anneli kaarina marjatta annikki hannele liisa tuula sari minna anne paivi tiina
aino eveliina sofia emilia olivia ella aada helmi venla pihla iida kerttu siiri saara satu riikka
jon gudmundur sigurdur olafur einar kristjan magnus stefan jonas gunnar arni bjarni halldor helgi
thor haraldur ragnar ingvar egill snorri sveinn gisli thordur hordur hallgrimur kjartan
gudrun sigridur kristin margret helga anna jona ingibjorg sigrun johanna ragnheidur thora katrin
asta birna hildur unnur solveig steinunn halla edda lilja
piotr krzysztof andrzej tomasz pawel jan michal marcin jakub adam marek lukasz grzegorz mateusz wojciech
mariusz dariusz zbigniew henryk ryszard kazimierz jerzy jozef stanislaw tadeusz janusz roman kamil
maciej szymon filip bartosz dawid kacper patryk sebastian rafal artur radoslaw slawomir miroslaw
boleslaw wladyslaw zdzislaw czeslaw leszek witold przemyslaw jaroslaw boguslaw mieczyslaw
anna maria katarzyna malgorzata agnieszka barbara krystyna ewa elzbieta zofia teresa joanna magdalena
monika danuta irena jadwiga aleksandra natalia dorota halina janina beata jolanta iwona karolina
justyna paulina marta wiktoria julia zuzanna oliwia maja lena amelia hanna alicja weronika gabriela
 grazyna bozena kamila sylwia renata urszula stanislawa wanda wieslawa
jiri jan petr josef pavel martin jaroslav tomas miroslav frantisek zdenek vaclav michal karel milan
vladimir lukas david jakub ondrej radek ales stanislav ladislav roman marek libor vojtech matej adam
jana marie eva hana anna lenka katerina lucie vera alena petra veronika jaroslava tereza martina michaela
ludmila helena zdenka jitka ivana monika dana zuzana barbora eliska karolina kristyna sarka klara
lubomira bohumila vlasta bozena jarmila libuse miroslava vlasta blanka radka simona olga
laszlo istvan jozsef janos zoltan sandor ferenc gabor attila peter tibor andras csaba tamas gyorgy imre
lajos balazs mihaly zsolt robert krisztian adam bence mate levente gergely daniel david marton akos
maria erzsebet katalin ilona eva anna zsuzsanna margit judit agnes julianna erika krisztina edit andrea
ildiko eszter timea aniko anita zsofia reka dora petra boglarka noemi vivien fanni csilla enikő enikoe
ivan sergei sergey alexander aleksandr dmitri dmitry andrei andrey alexei aleksei vladimir nikolai mikhail
yuri igor oleg viktor pavel boris anatoly vasily valery konstantin maxim maksim artem artyom denis roman
evgeny yevgeny kirill ilya anton stanislav vyacheslav vadim gennady grigory leonid fyodor stepan timur
ruslan arkady arseny bogdan yaroslav vitaly zakhar semyon matvei svyatoslav rostislav
olga tatiana tatyana natalia natalya elena yelena irina svetlana anna maria ekaterina yekaterina marina
ludmila lyudmila galina valentina nadezhda lyubov vera larisa nina oksana yulia julia anastasia daria darya
polina alina kristina sofia sofya veronika ksenia alexandra alisa arina milana varvara yana zoya zinaida
lidia raisa tamara inna alla margarita evgenia ulyana vasilisa taisia
giorgos georgios konstantinos dimitrios ioannis nikolaos panagiotis vasileios christos athanasios
michail evangelos spyridon antonios stavros theodoros andreas kostas nikos yannis petros pavlos
maria eleni aikaterini vasiliki sofia angeliki georgia dimitra konstantina paraskevi christina irini
despina eftychia chrysa theodora athina ioanna stavroula zoi anastasia kalliopi marina
mehmet mustafa ahmet ali huseyin hasan ibrahim ismail osman yusuf murat omer ramazan halil suleyman
abdullah mahmut recep fatih emre burak can cem kemal serkan yasin eren kaan baris tolga ugur volkan
fatma ayse emine hatice zeynep elif meryem sultan hulya ozlem esra merve busra seda derya ebru
muhammad mohammed mohammad ahmed ahmad ali hassan hussein omar abdul ibrahim yusuf khalid mahmoud
mustafa tariq karim samir nabil fadi rami walid amir hamza bilal faisal jamal rashid said salim
fatima aisha zainab maryam khadija amina layla leila nour noor yasmin salma huda hana rania dina
mohamed youssef mehdi amine rachid hicham karim nadia samira latifa malika naima sanaa houda
hiroshi takashi kenji yuki haruto sota yuto hinata riku ren takumi kaito daiki shota kenta ryota
yusuke kazuki naoki satoshi makoto akira takeshi daisuke kazuya masato tomoya 
yui hina yuna sakura aoi rin mei haruka misaki yuka ayaka nanami mai yuko keiko naoko tomoko akiko
yoko mariko emi kumiko sachiko noriko michiko hiromi megumi asuka 
wei wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo lin he gao luo zheng liang
jun ming hao lei jie yong jian tao bin hui fang ying yan ping xiu mei hong ling jing
min ji hyun seo jun woo young soo jin eun hye kyung sung hee jae dong hoon chul seok
raj rahul amit sanjay vijay anil sunil ajay ravi arjun rohit vikram suresh ramesh ashok deepak manoj
priya pooja anjali neha sunita kavita anita deepa lakshmi divya swati shreya aditi meera nisha
kwame kofi kojo yaw kwaku kwabena ama akosua abena adwoa efua chidi emeka chinedu ngozi chioma amaka
oluwaseun tunde femi bola yemi adebayo obinna ifeanyi uche nkechi funmilayo
david moshe yosef avraham yaakov shlomo yitzhak daniel noam itai omer eitan yonatan ariel
sarah rivka rachel leah tamar noa shira yael michal maya ayelet hadas
aram armen arman hayk tigran ashot gevorg narek davit levan giorgi nino tamar mariam ana nana eka
zeljko dragan goran zoran milan nenad dejan bojan marko nikola stefan luka ivan petar milos vuk
jovan vladimir slobodan miroslav predrag branko dusan darko sasa mladen tomislav damir hrvoje
ana marija jelena ivana milica dragana snezana gordana jasmina vesna mirjana tanja sanja maja
 jasna biljana ljiljana nada zorica slavica danijela
janez franc jozef anton jozef marko luka jure matej rok ziga blaz jernej primoz bostjan
 emir edin adnan amir haris kenan mirza nedim samir senad tarik almir elvir
amra amela azra lejla selma sabina emina merima aida alma
andrus jaan toomas margus priit tarmo urmas rein mart kalle siim tonu meelis indrek
kadri liis kersti tiina marju triin katrin piret maarja kristiina epp reet merike
janis andris juris peteris martins edgars kristaps raimonds valdis ilze inese ieva liga dace
jonas petras antanas kazys vytautas algirdas tomas mindaugas darius rimantas ruta egle ausra
vasile ion gheorghe constantin mihai dumitru nicolae florin andrei alexandru cristian adrian
elena maria ioana andreea mihaela cristina alina gabriela roxana simona daniela raluca
`;
